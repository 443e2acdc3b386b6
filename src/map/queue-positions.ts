import type { JobQueue } from '../jobs/job-queue.js';
import type { IssueStatuses } from '../status/issue-statuses.js';
import type { IssueStatus } from '../status/issue-status.js';
import type { MapRequest } from './map-request.js';

const POSITION_REFRESH_MS = 60_000;

/** A fleet's line of queued jobs (jobs/fleet-queue.ts): how many wait in all its processes, and where. */
export interface FleetLine {
  places(keys: string[]): Promise<{ places: Map<string, number | undefined>; of: number }>;
}

/**
 * Queued issues' statuses showing their place in line, refreshed at most once a minute and only
 * where the place changed (an edit each, and only while something waits in the queue). In a fleet
 * the place is among the jobs queued in all its processes; if Redis does not answer, among this
 * process's own.
 */
export class QueuePositions {
  readonly #statuses: IssueStatuses;
  readonly #scheduler: JobQueue;
  readonly #queued = new Map<string, { request: MapRequest; shownPlace?: number }>();
  #refreshTimer: NodeJS.Timeout | undefined;
  #fleet: Promise<FleetLine> | undefined;

  constructor(statuses: IssueStatuses, scheduler: JobQueue) {
    this.#statuses = statuses;
    this.#scheduler = scheduler;
    scheduler.onEvent((event) => {
      if (event.kind === 'started' || event.kind === 'dequeued') this.#queued.delete(event.key);
    });
  }

  /** In a fleet: places are counted among every process's queued jobs. */
  useFleet(line: Promise<FleetLine>): void {
    this.#fleet = line;
  }

  /** Shows a just-queued issue's place; nothing when it started at once (the run shows itself). */
  async show(key: string, request: MapRequest): Promise<void> {
    const { places, of } = await this.#places([key]);
    const place = places.get(key);
    if (place === undefined) return;
    this.#queued.set(key, { request, shownPlace: place });
    await this.#write(request, place, of);
    this.#ensureRefreshTimer();
  }

  /** Rewrites the place in line of queued issues whose place changed since it was last shown. */
  async refresh(): Promise<void> {
    const { places, of } = await this.#places([...this.#queued.keys()]);
    for (const [key, entry] of this.#queued) {
      const place = places.get(key);
      if (place === undefined || place === entry.shownPlace) continue;
      entry.shownPlace = place;
      await this.#write(entry.request, place, of).catch((err: unknown) => entry.request.log.warn({ err }, 'queue position edit failed'));
    }
    if (this.#queued.size === 0) this.stop();
  }

  /** Places among the fleet's queued jobs, for keys still queued here; this process's own line without a fleet. */
  async #places(keys: string[]): Promise<{ places: Map<string, number | undefined>; of: number }> {
    const here = keys.filter((key) => this.#scheduler.position(key) !== undefined);
    const fleet = this.#fleet && here.length > 0 ? await this.#fleet.then((line) => line.places(here)).catch(() => undefined) : undefined;
    if (fleet) return fleet;
    return { places: new Map(here.map((key) => [key, this.#scheduler.position(key)])), of: this.#scheduler.queuedKeys().length };
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

  #write(request: MapRequest, place: number, of: number): Promise<void> {
    const status: IssueStatus = { state: 'queued', attempt: request.attempt };
    return this.#statuses.show(request.github, request.issueNumber, { status, position: { place, of } }, request.config.map.statusComment);
  }
}
