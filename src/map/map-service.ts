import type { RepoConfig } from '../config/schema.js';
import type { Actor, GitHub, IssueInfo, RepositoryInfo } from '../github/port.js';
import type { Logger } from '../log.js';
import { type IssueStatus } from '../status/issue-status.js';
import { runIssueJob } from './run-issue-job.js';
import type { CancelResult, JobQueue } from '../jobs/job-queue.js';
import { type IssueJobOutcome, type MapDeps } from './issue-job.js';
import { issueKey } from '../jobs/job-key.js';
import { recordEnded } from '../pipeline/record-ended.js';
import { Admission, baseOf, type AwaitingMemo, type Hold } from './admission.js';
import { ReviewBacklog } from './review-backlog.js';

export interface MapRequest {
  github: GitHub;
  repository: RepositoryInfo;
  issueNumber: number;
  /** The issue as read when it was asked for: its body and blockers decide whether it waits. */
  issue: Pick<IssueInfo, 'number' | 'body' | 'openBlockers'>;
  requester: Actor;
  /** When the issue was handed over (label time): earlier starts first. */
  since: number;
  config: RepoConfig;
  /** The attempt this run will be: one more than the issue's last recorded run. */
  attempt: number;
  replaceOpenPull: boolean;
  mode: 'plan' | 'implement';
  plan?: string;
  /** The issue has no comment of the app's yet, so its first status need not look for one. */
  freshIssue: boolean;
  priority: boolean;
  log: Logger;
}

export type MapRequestResult = 'queued' | 'started' | 'waiting' | 'already-queued' | 'already-running' | 'stopped';

export type MapState = { state: 'queued' | 'running'; place?: number; of?: number } | { state: 'waiting'; reason: string };

const POSITION_REFRESH_MS = 60_000;

/**
 * The map half of the app: admits issues to the scheduler or holds them while they must wait
 * (open blockers, reviewers behind: admission.ts), lets them in when that changes, keeps queued
 * issues' statuses showing their place in line (refreshed at most once a minute, and only where the
 * place changed), and cancels jobs.
 */
export class MapService {
  readonly #deps: MapDeps;
  readonly #scheduler: JobQueue;
  readonly #backlog = new ReviewBacklog();
  readonly #admission = new Admission(this.#backlog);
  readonly #queued = new Map<string, { request: MapRequest; shownPlace?: number }>();
  /** Issues held before the queue, and why. */
  readonly #held = new Map<string, { request: MapRequest; hold: Hold }>();
  /** Map jobs in the scheduler (queued or running) that will open a PR on their base: pacing counts them. */
  readonly #admitted = new Map<string, { request: MapRequest }>();
  /** Admission is one decision at a time per repository, so that two never take the same last place. */
  readonly #admitting = new Map<string, Promise<unknown>>();
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(deps: MapDeps, scheduler: JobQueue) {
    this.#deps = deps;
    this.#scheduler = scheduler;
    scheduler.onEvent((event) => {
      if (event.kind === 'started' || event.kind === 'dequeued') this.#queued.delete(event.key);
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
      if (this.#held.has(key)) return 'already-queued';
      const live = this.#scheduler.state(key);
      if (live) return live === 'running' ? 'already-running' : 'already-queued';
      const hold = await this.#admission.holdOf(request, request.issue, (base) => this.#admittedOn(github, base));
      if (hold) {
        this.#held.set(key, { request, hold });
        return hold;
      }
      return this.#enqueue(key, request);
    });
    if (typeof decided !== 'string') {
      await this.#showHeld(request, decided);
      return 'waiting';
    }
    if (decided === 'queued') await this.#showQueued(key, request);
    return decided === 'queued' && this.#scheduler.state(key) === 'running' ? 'started' : decided;
  }

  /**
   * Looks again at the repository's held issues, first in line first: each whose reason is gone joins
   * the queue, and the others' statuses follow their reason (a new count, another blocker). Called on
   * whatever may release one (a person's review, a closed PR or issue, a run's end) and by reconcile.
   */
  recheck(github: GitHub): Promise<void> {
    const prefix = `${github.owner}/${github.repo}#`;
    const any = [...this.#held.entries()].find(([k]) => k.startsWith(prefix))?.[1];
    if (!any) return Promise.resolve();
    return this.#serial(github, async () => {
      const memo: AwaitingMemo = new Map();
      const held = [...this.#held.entries()].filter(([k]) => k.startsWith(prefix)).sort(([, a], [, b]) => inLine(a.request, b.request));
      for (const [key, entry] of held) {
        const { request } = entry;
        try {
          // blockers change on GitHub without the issue's own events: read it again
          const issue = entry.hold.kind === 'blockers' ? await request.github.getIssue(request.issueNumber) : request.issue;
          if ('open' in issue && !issue.open) continue; // closed: its own webhook cancels it
          const hold = await this.#admission.holdOf(request, issue, (base) => this.#admittedOn(github, base), memo);
          if (!this.#held.has(key)) continue; // cancelled meanwhile
          if (hold) {
            if (hold.reason !== entry.hold.reason) void this.#showHeld(request, entry.hold = hold);
            continue;
          }
          this.#held.delete(key);
          this.#deps.profile.record({ repo: `${github.owner}/${github.repo}`, issue: request.issueNumber, type: 'waiting' });
          if (this.#enqueue(key, request) === 'queued') void this.#showQueued(key, request);
        } catch (err) {
          request.log.warn({ err }, 'held issue not looked at again; the next event or reconcile will');
        }
      }
    }).catch((err: unknown) => any.request.log.warn({ err }, 'held issues not looked at again'));
  }

  /** A review webhook: a person's review takes the PR out of the count of PRs awaiting review. */
  noteReview(github: GitHub, pullNumber: number, author: string): void {
    this.#backlog.noteReview(github.owner, github.repo, pullNumber, author);
  }

  /** Stops the issue's job: a held or queued one is taken out (and says so), a running one is aborted. */
  async cancel(github: GitHub, issueNumber: number, reason: string, attempt?: number): Promise<CancelResult> {
    const key = issueKey(github.owner, github.repo, issueNumber);
    const held = this.#held.get(key);
    this.#held.delete(key);
    if (held) this.#deps.profile.record({ repo: `${github.owner}/${github.repo}`, issue: issueNumber, type: 'waiting' });
    const result = held ? 'dequeued' : this.#scheduler.cancel(key, reason);
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
    const state = this.#scheduler.state(key);
    if (!state) return undefined;
    return state === 'queued'
      ? { state, place: this.#scheduler.position(key)!, of: this.#scheduler.queuedKeys().length }
      : { state };
  }

  /** Keys of this repository's held, queued and running jobs. */
  keysOf(owner: string, repo: string): string[] {
    const prefix = `${owner}/${repo}#`;
    return [...this.#held.keys(), ...this.#scheduler.queuedKeys(), ...this.#scheduler.runningKeys()].filter((k) => k.startsWith(prefix));
  }

  /** Rewrites the place in line of queued issues whose place changed since it was last shown. */
  async refreshQueuePositions(): Promise<void> {
    const of = this.#scheduler.queuedKeys().length;
    for (const [key, entry] of this.#queued) {
      const place = this.#scheduler.position(key);
      if (place === undefined || place === entry.shownPlace) continue;
      entry.shownPlace = place;
      await this.#writeQueued(entry.request, place, of).catch((err: unknown) => entry.request.log.warn({ err }, 'queue position edit failed'));
    }
    if (this.#queued.size === 0) this.stop();
  }

  stop(): void {
    if (this.#refreshTimer) clearInterval(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  #enqueue(key: string, request: MapRequest): MapRequestResult {
    const { github, issueNumber } = request;
    const result = this.#scheduler.enqueue({
      key,
      work: 'map',
      group: `${github.owner}/${github.repo}`,
      groupCap: request.config.map.concurrency,
      priority: request.priority ? 1 : 0,
      since: request.since,
      run: async (signal) => {
        let outcome: IssueJobOutcome;
        try {
          outcome = await runIssueJob(this.#deps, { ...request, log: request.log.child({ attempt: request.attempt }) }, signal);
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

  async #showQueued(key: string, request: MapRequest): Promise<void> {
    const place = this.#scheduler.position(key);
    if (place === undefined) return; // already started: the run shows itself
    this.#queued.set(key, { request, shownPlace: place });
    await this.#writeQueued(request, place);
    this.#ensureRefreshTimer();
  }

  async #showHeld(request: MapRequest, hold: Hold): Promise<void> {
    const { github, issueNumber } = request;
    request.log.info({ hold: hold.kind, reason: hold.reason }, 'issue held');
    this.#deps.profile.record({ repo: `${github.owner}/${github.repo}`, issue: issueNumber, type: 'waiting', reason: hold.reason });
    const status: IssueStatus = { state: 'waiting', attempt: request.attempt, reason: hold.reason };
    await this.#deps.statuses.show(github, issueNumber, { status }, request.config.map.statusComment)
      .catch((err: unknown) => request.log.warn({ err }, 'waiting status not written'));
  }

  #serial<T>(github: GitHub, decide: () => Promise<T>): Promise<T> {
    const repo = `${github.owner}/${github.repo}`;
    const next = (this.#admitting.get(repo) ?? Promise.resolve()).catch(() => undefined).then(decide);
    this.#admitting.set(repo, next);
    const forget = () => {
      if (this.#admitting.get(repo) === next) this.#admitting.delete(repo);
    };
    next.then(forget, forget);
    return next;
  }

  #ensureRefreshTimer(): void {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setInterval(() => void this.refreshQueuePositions(), POSITION_REFRESH_MS);
    this.#refreshTimer.unref();
  }

  #writeQueued(request: MapRequest, place: number, of = this.#scheduler.queuedKeys().length): Promise<void> {
    const status: IssueStatus = { state: 'queued', attempt: request.attempt };
    return this.#deps.statuses.show(request.github, request.issueNumber, { status, position: { place, of } }, request.config.map.statusComment);
  }
}

/** The scheduler's order: priority first, then who asked first. */
function inLine(a: MapRequest, b: MapRequest): number {
  return a.priority !== b.priority ? (a.priority ? -1 : 1) : a.since - b.since;
}
