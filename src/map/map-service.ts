import type { RepoConfig } from '../config/schema.js';
import type { Actor, GitHub, RepositoryInfo } from '../github/port.js';
import type { Logger } from '../log.js';
import { type IssueStatus } from '../status/issue-status.js';
import { runIssueJob } from './run-issue-job.js';
import type { CancelResult, JobQueue } from '../jobs/job-queue.js';
import { type IssueJobOutcome, type MapDeps } from './issue-job.js';
import { issueKey } from '../jobs/job-key.js';
import { recordEnded } from '../pipeline/record-ended.js';

export interface MapRequest {
  github: GitHub;
  repository: RepositoryInfo;
  issueNumber: number;
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

export type MapRequestResult = 'queued' | 'started' | 'already-queued' | 'already-running' | 'stopped';

const POSITION_REFRESH_MS = 60_000;

/**
 * The map half of the app: hands issues to the scheduler, keeps queued issues' statuses
 * showing their place in line (refreshed at most once a minute, and only where the place
 * changed), and cancels jobs.
 */
export class MapService {
  readonly #deps: MapDeps;
  readonly #scheduler: JobQueue;
  readonly #queued = new Map<string, { request: MapRequest; shownPlace?: number }>();
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(deps: MapDeps, scheduler: JobQueue) {
    this.#deps = deps;
    this.#scheduler = scheduler;
    scheduler.onEvent((event) => {
      if (event.kind === 'started' || event.kind === 'dequeued') this.#queued.delete(event.key);
    });
  }


  async request(request: MapRequest): Promise<MapRequestResult> {
    const { github, issueNumber } = request;
    const key = issueKey(github.owner, github.repo, issueNumber);
    if (request.freshIssue) this.#deps.statuses.assumeNone(github, issueNumber);
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
    if (result !== 'queued') return result;
    if (this.#scheduler.state(key) === 'running') return 'started';

    const place = this.#scheduler.position(key)!;
    this.#queued.set(key, { request, shownPlace: place });
    await this.#writeQueued(request, place);
    this.#ensureRefreshTimer();
    return 'queued';
  }

  /** Stops the issue's job: a queued one is taken out (and says so), a running one is aborted. */
  async cancel(github: GitHub, issueNumber: number, reason: string, attempt?: number): Promise<CancelResult> {
    const key = issueKey(github.owner, github.repo, issueNumber);
    const result = this.#scheduler.cancel(key, reason);
    if (result === 'dequeued') {
      const status: IssueStatus = { state: 'cancelled', reason, ...(attempt ? { attempt } : {}) };
      await this.#deps.statuses.show(github, issueNumber, { status });
    }
    return result;
  }

  state(owner: string, repo: string, issueNumber: number): { state: 'queued' | 'running'; place?: number; of?: number } | undefined {
    const key = issueKey(owner, repo, issueNumber);
    const state = this.#scheduler.state(key);
    if (!state) return undefined;
    return state === 'queued'
      ? { state, place: this.#scheduler.position(key)!, of: this.#scheduler.queuedKeys().length }
      : { state };
  }

  /** Keys of this repository's queued and running jobs. */
  keysOf(owner: string, repo: string): string[] {
    const prefix = `${owner}/${repo}#`;
    return [...this.#scheduler.queuedKeys(), ...this.#scheduler.runningKeys()].filter((k) => k.startsWith(prefix));
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
