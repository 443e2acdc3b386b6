import type { Logger } from '../log.js';
import type { ReduceDeps, ReducePass, ReduceReport } from './reduce-pass.js';
import { runReducePass } from './run-reduce-pass.js';

/**
 * One reduce pass at a time per (repository, base branch), which makes locks unnecessary elsewhere
 * (DESIGN §1.2). A trigger that arrives while a pass runs is not lost: one more pass follows it,
 * however many triggers came.
 */
export class ReduceService {
  readonly #deps: ReduceDeps;
  readonly #running = new Map<string, Promise<ReduceReport[]>>();
  readonly #again = new Map<string, ReducePass>();
  readonly #reports: Array<(report: ReduceReport) => void> = [];

  constructor(deps: ReduceDeps) {
    this.#deps = deps;
  }

  onReport(listener: (report: ReduceReport) => void): void {
    this.#reports.push(listener);
  }

  /** Runs a pass now, or once more after the one under way; resolves with the reports of the passes it waited for. */
  trigger(pass: ReducePass): Promise<ReduceReport[]> {
    const key = `${pass.github.owner}/${pass.github.repo}:${pass.baseRef}`;
    const running = this.#running.get(key);
    if (running) {
      this.#again.set(key, pass);
      return running;
    }
    const passes = (async () => {
      const reports: ReduceReport[] = [];
      for (let next: ReducePass | undefined = pass; next; next = this.#takeAgain(key)) {
        reports.push(await this.#runOne(next));
      }
      return reports;
    })().finally(() => this.#running.delete(key));
    this.#running.set(key, passes);
    return passes;
  }

  /** Resolves once no pass is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  #takeAgain(key: string): ReducePass | undefined {
    const pass = this.#again.get(key);
    this.#again.delete(key);
    return pass;
  }

  async #runOne(pass: ReducePass): Promise<ReduceReport> {
    const log: Logger = pass.log.child({ base: pass.baseRef, reduce: true });
    const started = Date.now();
    const record = (report: ReduceReport, failed: boolean) => this.#deps.profile.reducePass({
      ...report, repo: `${pass.github.owner}/${pass.github.repo}`, base: pass.baseRef, failed, durationMs: Date.now() - started,
    });
    try {
      const report = await runReducePass(this.#deps, { ...pass, log });
      log.info(report, 'reduce pass done');
      record(report, false);
      for (const listener of this.#reports) listener(report);
      return report;
    } catch (err) {
      log.error({ err }, 'reduce pass failed; the next trigger retries');
      const empty: ReduceReport = { order: [], merged: [], flagged: [], waiting: [] };
      record(empty, true);
      return empty;
    }
  }
}
