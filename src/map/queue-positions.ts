import type { JobQueue } from '../jobs/job-queue.js';
import type { IssueStatuses } from '../status/issue-statuses.js';
import type { IssueStatus } from '../status/issue-status.js';
import type { MapRequest } from './map-request.js';

const POSITION_REFRESH_MS = 60_000;

/**
 * Queued issues' statuses showing their place in line, refreshed at most once a minute and only
 * where the place changed (an edit each, and only while something waits in the queue).
 */
export class QueuePositions {
  readonly #statuses: IssueStatuses;
  readonly #scheduler: JobQueue;
  readonly #queued = new Map<string, { request: MapRequest; shownPlace?: number }>();
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(statuses: IssueStatuses, scheduler: JobQueue) {
    this.#statuses = statuses;
    this.#scheduler = scheduler;
    scheduler.onEvent((event) => {
      if (event.kind === 'started' || event.kind === 'dequeued') this.#queued.delete(event.key);
    });
  }

  /** Shows a just-queued issue's place; nothing when it started at once (the run shows itself). */
  async show(key: string, request: MapRequest): Promise<void> {
    const place = this.#scheduler.position(key);
    if (place === undefined) return;
    this.#queued.set(key, { request, shownPlace: place });
    await this.#write(request, place);
    this.#ensureRefreshTimer();
  }

  /** Rewrites the place in line of queued issues whose place changed since it was last shown. */
  async refresh(): Promise<void> {
    const of = this.#scheduler.queuedKeys().length;
    for (const [key, entry] of this.#queued) {
      const place = this.#scheduler.position(key);
      if (place === undefined || place === entry.shownPlace) continue;
      entry.shownPlace = place;
      await this.#write(entry.request, place, of).catch((err: unknown) => entry.request.log.warn({ err }, 'queue position edit failed'));
    }
    if (this.#queued.size === 0) this.stop();
  }

  stop(): void {
    if (this.#refreshTimer) clearInterval(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  #ensureRefreshTimer(): void {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setInterval(() => void this.refresh(), POSITION_REFRESH_MS);
    this.#refreshTimer.unref();
  }

  #write(request: MapRequest, place: number, of = this.#scheduler.queuedKeys().length): Promise<void> {
    const status: IssueStatus = { state: 'queued', attempt: request.attempt };
    return this.#statuses.show(request.github, request.issueNumber, { status, position: { place, of } }, request.config.map.statusComment);
  }
}
