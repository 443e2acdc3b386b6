import type { JobQueue } from './job-queue.js';

/**
 * Back-pressure on the model API: while it answers 429, half as many runs start (at least one);
 * the cap comes back once its `retry-after` has passed. The SDK's own retries handle each call.
 */
export class RateLimitGate {
  readonly #scheduler: JobQueue;
  readonly #normalCap: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(scheduler: JobQueue) {
    this.#scheduler = scheduler;
    this.#normalCap = scheduler.globalCap;
  }

  get limited(): boolean {
    return this.#timer !== undefined;
  }

  limit(retryAfterMs: number): void {
    this.#scheduler.setGlobalCap(Math.max(1, Math.floor(this.#normalCap / 2)));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.release(), Math.max(1000, retryAfterMs));
    this.#timer.unref();
  }

  release(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#scheduler.setGlobalCap(this.#normalCap);
  }
}
