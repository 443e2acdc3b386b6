import type { RepoConfig } from '../config/schema.js';
import type { GitHub } from '../github/port.js';
import { type IssueStatus } from '../status/issue-status.js';
import { runIssueJob } from './run-issue-job.js';
import type { CancelResult, JobQueue } from '../jobs/job-queue.js';
import { type IssueJobOutcome, type MapDeps } from './issue-job.js';
import { issueKey } from '../jobs/job-key.js';
import { recordEnded } from '../pipeline/record-ended.js';
import { Admission, baseOf, type AwaitingMemo, type Hold } from './admission.js';
import { ReviewBacklog } from './review-backlog.js';
import { KeyedMutex } from '../git/keyed-mutex.js';
import { QueuePositions, type FleetLine } from './queue-positions.js';
import type { MapRequest } from './map-request.js';

export type { MapRequest };

export type MapRequestResult = 'queued' | 'started' | 'waiting' | 'already-queued' | 'already-running' | 'stopped' | 'cancelled';

/** What a recheck knows: the repository's config as just read (reconcile), or the issue that just closed. */
export interface RecheckHint {
  config?: RepoConfig;
  closed?: number;
}

export type MapState = { state: 'queued' | 'running'; place?: number; of?: number } | { state: 'waiting'; reason: string };

/**
 * The map half of the app: admits issues to the scheduler or holds them while they must wait
 * (open blockers, reviewers behind: admission.ts), lets them in when that changes, has queued
 * issues show their place in line (queue-positions.ts), and cancels jobs.
 */
export class MapService {
  readonly #deps: MapDeps;
  readonly #scheduler: JobQueue;
  readonly #backlog: ReviewBacklog;
  readonly #admission: Admission;
  readonly #positions: QueuePositions;
  /** Issues held before the queue, and why. */
  readonly #held = new Map<string, { request: MapRequest; hold: Hold }>();
  /** Map jobs in the scheduler (queued or running) that will open a PR on their base: pacing counts them. */
  readonly #admitted = new Map<string, { request: MapRequest }>();
  /** Issues whose admission is being decided, and the reason if they were cancelled meanwhile. */
  readonly #deciding = new Map<string, { cancelled?: string }>();
  /** Per repository, the recheck pass queued and not yet started. */
  readonly #pendingRechecks = new Map<string, Promise<void>>();
  /** The fleet's cancels (REDIS_URL), when processes share jobs. */
  #elsewhere: Promise<{ cancel(key: string, reason: string): Promise<boolean> }> | undefined;
  /** Admission is one decision at a time per repository, so that two never take the same last place. */
  readonly #admitting = new KeyedMutex();

  constructor(deps: MapDeps, scheduler: JobQueue) {
    this.#deps = deps;
    this.#scheduler = scheduler;
    this.#backlog = new ReviewBacklog((github, login) => deps.permissions.isWriter(github, login));
    this.#admission = new Admission(this.#backlog);
    this.#positions = new QueuePositions(deps.statuses, scheduler);
    scheduler.onEvent((event) => {
      if (event.work !== 'map' || (event.kind !== 'finished' && event.kind !== 'dequeued')) return;
      const admitted = this.#admitted.get(event.key);
      this.#admitted.delete(event.key);
      // a run that ended frees its place, or opened a PR that now counts instead
      if (admitted) void this.recheck(admitted.request.github);
    });
  }

  /**
   * 1. an issue already held, queued or running is left as it is;
   * 2. one that must wait is held, and its status says why;
   * 3. the others join the queue.
   */
  async request(request: MapRequest): Promise<MapRequestResult> {
    const { github, issueNumber } = request;
    const key = issueKey(github.owner, github.repo, issueNumber);
    if (request.freshIssue) this.#deps.statuses.assumeNone(github, issueNumber);
    const decided = await this.#serial(github, async (): Promise<MapRequestResult | Hold> => {
      if (this.#held.has(key) || this.#deciding.has(key)) return 'already-queued';
      const live = this.#scheduler.state(key);
      if (live) return live === 'running' ? 'already-running' : 'already-queued';
      // while GitHub is read, the issue is taken: a cancel meanwhile is remembered, not lost
      this.#deciding.set(key, {});
      try {
        const hold = await this.#admission.holdOf(request, request.issue, (base) => this.#admittedOn(github, base));
        if (this.#deciding.get(key)?.cancelled) return 'cancelled';
        if (!hold) return this.#enqueue(key, request);
        this.#held.set(key, { request, hold });
        return hold;
      } finally {
        this.#deciding.delete(key);
      }
    });
    if (typeof decided !== 'string') {
      await this.#showHeld(request, decided);
      return 'waiting';
    }
    if (decided === 'queued') await this.#positions.show(key, request);
    return decided === 'queued' && this.#scheduler.state(key) === 'running' ? 'started' : decided;
  }

  /**
   * Looks again at the repository's held issues, first in line first: each whose reason is gone joins
   * the queue, and the others' statuses follow their reason (a new count, another blocker). Called on
   * whatever may release one (a person's review, a closed PR or issue, a run's end) and by reconcile.
   */
  recheck(github: GitHub, hint: RecheckHint = {}): Promise<void> {
    const repo = `${github.owner}/${github.repo}`;
    const any = [...this.#held.entries()].find(([k]) => k.startsWith(`${repo}#`))?.[1];
    if (!any) return Promise.resolve();
    // a burst of webhooks costs one more pass, not one each: a pass not yet started takes them all
    const pending = this.#pendingRechecks.get(repo);
    if (pending && !hint.config) return pending;
    const pass = this.#serial(github, () => {
      if (this.#pendingRechecks.get(repo) === pass) this.#pendingRechecks.delete(repo);
      return this.#recheckNow(github, hint);
    }).catch((err: unknown) => any.request.log.warn({ err }, 'held issues not looked at again'));
    this.#pendingRechecks.set(repo, pass);
    return pass;
  }

  /** A review webhook: a writer's review takes the PR out of the count of PRs awaiting review. */
  async noteReview(github: GitHub, pullNumber: number, author: string): Promise<void> {
    if (author !== '' && !author.endsWith('[bot]') && await this.#deps.permissions.isWriter(github, author)) {
      this.#backlog.noteReviewed(github.owner, github.repo, pullNumber);
    }
  }

  /**
   * In a fleet: cancels reach the process that runs the job (jobs/fleet-cancel.ts), and queued issues
   * show their place among every process's queued jobs (jobs/fleet-queue.ts).
   */
  useFleet(elsewhere: Promise<{ cancel(key: string, reason: string): Promise<boolean> }>, line: Promise<FleetLine>): void {
    this.#elsewhere = elsewhere;
    this.#positions.useFleet(line);
  }

  /** Whether a job of this process's may run in another process of a fleet, so that a cancel must ask the fleet. */
  get inFleet(): boolean {
    return this.#elsewhere !== undefined;
  }

  /**
   * A cancel from another process of the fleet: the job stops if it is here, as a local cancel would
   * stop it (a held, deciding or queued issue says so; a run says so itself). A revision or rebase of
   * the issue's PR shares the key, and stops too.
   */
  async cancelHere(key: string, reason: string): Promise<void> {
    const deciding = this.#deciding.get(key);
    if (deciding) deciding.cancelled = reason;
    const request = this.#held.get(key)?.request ?? this.#admitted.get(key)?.request;
    if (!request) {
      this.#scheduler.cancel(key, reason);
      return;
    }
    await this.cancel(request.github, request.issueNumber, reason).catch((err: unknown) => request.log.warn({ err }, 'issue not cancelled'));
  }

  /**
   * Stops the issue's job: a held or queued one is taken out (and says so), a running one is aborted;
   * in a fleet, one that is not here is stopped where it runs.
   */
  async cancel(github: GitHub, issueNumber: number, reason: string, attempt?: number): Promise<CancelResult> {
    const key = issueKey(github.owner, github.repo, issueNumber);
    const deciding = this.#deciding.get(key);
    if (deciding) deciding.cancelled = reason; // its admission drops it once GitHub has answered
    const held = this.#held.delete(key);
    if (held) this.#deps.profile.record({ repo: `${github.owner}/${github.repo}`, issue: issueNumber, type: 'waiting' });
    let result = held || deciding ? 'dequeued' : this.#scheduler.cancel(key, reason);
    if (result === 'not-found' && this.#elsewhere) {
      // the fleet's cancels not reachable (logged where they started): the cancel stays here
      const elsewhere = await this.#elsewhere.then((fleet) => fleet.cancel(key, reason), () => false);
      if (elsewhere) result = 'aborted';
    }
    if (result === 'dequeued') {
      const status: IssueStatus = { state: 'cancelled', reason, ...(attempt ? { attempt } : {}) };
      await this.#deps.statuses.show(github, issueNumber, { status });
    }
    return result;
  }

  state(owner: string, repo: string, issueNumber: number): MapState | undefined {
    const key = issueKey(owner, repo, issueNumber);
    const held = this.#held.get(key);
    if (held) return { state: 'waiting', reason: held.hold.reason };
    if (this.#deciding.has(key)) return { state: 'queued' };
    const state = this.#scheduler.state(key);
    if (!state) return undefined;
    return state === 'queued'
      ? { state, place: this.#scheduler.position(key)!, of: this.#scheduler.queuedKeys().length }
      : { state };
  }

  /** Keys of this repository's held, queued and running jobs. */
  keysOf(owner: string, repo: string): string[] {
    const prefix = `${owner}/${repo}#`;
    return [...this.#held.keys(), ...this.#deciding.keys(), ...this.#scheduler.queuedKeys(), ...this.#scheduler.runningKeys()].filter((k) => k.startsWith(prefix));
  }

  /** Rewrites the place in line of queued issues whose place changed since it was last shown. */
  refreshQueuePositions(): Promise<void> {
    return this.#positions.refresh();
  }

  stop(): void {
    this.#positions.stop();
  }

  async #recheckNow(github: GitHub, hint: RecheckHint): Promise<void> {
    const prefix = `${github.owner}/${github.repo}#`;
    const memo: AwaitingMemo = new Map();
    // a base found full stays full for the rest of the pass, so that a run ending mid-pass never lets
    // one further back in line overtake those already passed over
    const full = new Set<string>();
    const admitted = (base: string) => (full.has(base) ? Infinity : this.#admittedOn(github, base));
    const held = [...this.#held.entries()].filter(([k]) => k.startsWith(prefix)).sort(([, a], [, b]) => inLine(a.request, b.request));
    for (const [key, entry] of held) {
      // the repository's config as reconcile read it: a raised cap or a new base counts at once
      if (hint.config) entry.request = { ...entry.request, config: hint.config };
      const { request } = entry;
      try {
        const blockers = entry.hold.kind === 'blockers' ? entry.hold.blockers : [];
        // an issue closing releases only those it blocked
        if (hint.closed !== undefined && blockers.length > 0 && !blockers.includes(hint.closed)) continue;
        // blockers change on GitHub without the issue's own events: read it again
        const issue = blockers.length > 0 ? await request.github.getIssue(request.issueNumber) : request.issue;
        if ('open' in issue && !issue.open) continue; // closed: its own webhook cancels it
        const hold = await this.#admission.holdOf(request, issue, admitted, memo);
        if (hold?.kind === 'reviews') full.add(hold.base);
        if (!this.#held.has(key)) continue; // cancelled meanwhile
        if (hold) {
          if (hold.reason !== entry.hold.reason) void this.#showHeld(request, hold);
          entry.hold = hold;
          continue;
        }
        if (this.#enqueue(key, request) !== 'queued') continue; // its key is busy (a revision): the next pass
        this.#held.delete(key);
        this.#deps.profile.record({ repo: `${github.owner}/${github.repo}`, issue: request.issueNumber, type: 'waiting' });
        void this.#positions.show(key, request);
      } catch (err) {
        request.log.warn({ err }, 'held issue not looked at again; the next event or reconcile will');
      }
    }
  }

  #enqueue(key: string, request: MapRequest): MapRequestResult {
    const { github, issueNumber } = request;
    const queuedAt = Date.now();
    const result = this.#scheduler.enqueue({
      key,
      work: 'map',
      group: `${github.owner}/${github.repo}`,
      groupCap: request.config.map.concurrency,
      priority: request.priority ? 1 : 0,
      since: request.since,
      // the next runs in line make their worktree ready while the agents before them work
      prepares: true,
      run: async (signal, slot) => {
        let outcome: IssueJobOutcome;
        try {
          outcome = await runIssueJob(this.#deps, { ...request, queuedAt, log: request.log.child({ attempt: request.attempt }) }, signal, slot);
        } catch (err) {
          // the job reports its own failures; this is one it could not (GitHub down before it started)
          request.log.error({ err }, 'issue run broke');
          const reason = `agent-mapreduce could not run this issue: ${err instanceof Error ? err.message : String(err)}`;
          const status: IssueStatus = { state: 'failed', attempt: request.attempt, reason };
          await this.#deps.statuses.show(github, issueNumber, { status })
            .catch((e: unknown) => request.log.warn({ err: e }, 'status not written'));
          outcome = { kind: 'failed', reason };
        }
        request.log.info({ outcome }, 'issue run ended');
        recordEnded(this.#deps.profile, key, 'map', outcome);
      },
    });
    if (result === 'queued' && request.mode === 'implement') this.#admitted.set(key, { request });
    return result;
  }

  #admittedOn(github: GitHub, base: string): number {
    const prefix = `${github.owner}/${github.repo}#`;
    let count = 0;
    for (const [key, { request }] of this.#admitted) if (key.startsWith(prefix) && baseOf(request) === base) count++;
    return count;
  }

  async #showHeld(request: MapRequest, hold: Hold): Promise<void> {
    const { github, issueNumber } = request;
    request.log.info({ hold: hold.kind, reason: hold.reason }, 'issue held');
    this.#deps.profile.record({ repo: `${github.owner}/${github.repo}`, issue: issueNumber, type: 'waiting', reason: hold.reason });
    const status: IssueStatus = { state: 'waiting', attempt: request.attempt, reason: hold.reason, hold: hold.kind };
    await this.#deps.statuses.show(github, issueNumber, { status }, request.config.map.statusComment)
      .catch((err: unknown) => request.log.warn({ err }, 'waiting status not written'));
  }

  #serial<T>(github: GitHub, decide: () => Promise<T>): Promise<T> {
    return this.#admitting.run(`${github.owner}/${github.repo}`, decide);
  }
}

/** The scheduler's order: priority first, then who asked first; labels of the same moment by issue number. */
function inLine(a: MapRequest, b: MapRequest): number {
  return a.priority !== b.priority ? (a.priority ? -1 : 1) : a.since - b.since || a.issueNumber - b.issueNumber;
}
