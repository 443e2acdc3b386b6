import type { Logger } from '../log.js';
import type { ReduceDeps, ReducePass, ReduceReport } from './reduce-pass.js';
import { runReducePass } from './run-reduce-pass.js';
import type { FleetPasses, PassAddress } from '../jobs/fleet-passes.js';

/**
 * One reduce pass at a time per (repository, base branch), which makes locks unnecessary elsewhere
 * (DESIGN §1.2). A trigger that arrives while a pass runs is not lost: one more pass follows it,
 * however many triggers came. In a fleet (REDIS_URL) the same holds across every process: a trigger
 * goes to the shared queue, and the process that takes the pass runs it here (`runHere`).
 */
export class ReduceService {
  readonly #deps: ReduceDeps;
  #fleet: Promise<FleetPasses> | undefined;
  readonly #running = new Map<string, Promise<ReduceReport[]>>();
  readonly #again = new Map<string, ReducePass>();
  readonly #reports: Array<(report: ReduceReport) => void> = [];

  constructor(deps: ReduceDeps) {
    this.#deps = deps;
  }

  onReport(listener: (report: ReduceReport) => void): void {
    this.#reports.push(listener);
  }

  /** From now on, passes go through the fleet's queue (triggers wait until it is ready). */
  useFleet(fleet: Promise<FleetPasses>): void {
    this.#fleet = fleet;
  }

  /** Stops taking the fleet's passes; the local ones are left to `idle`. */
  async closeFleet(): Promise<void> {
    const fleet = await this.#fleet?.catch(() => undefined);
    await fleet?.close();
  }

  /**
   * Runs a pass now, or once more after the one under way; resolves with the reports of the passes it
   * waited for. In a fleet, it resolves once the shared queue has the pass, with no report.
   */
  trigger(pass: ReducePass): Promise<ReduceReport[]> {
    if (!this.#fleet) return this.runHere(pass);
    const { github, repository, baseRef } = pass;
    const address: PassAddress = {
      installationId: github.installationId, owner: github.owner, repo: github.repo, baseRef,
      defaultBranch: repository.defaultBranch, cloneUrl: repository.cloneUrl,
    };
    return this.#fleet.then((fleet) => fleet.trigger(address)).then(() => [], (err: unknown) => {
      pass.log.error({ err }, 'reduce pass not queued in the fleet; the next trigger or reconcile retries');
      return [];
    });
  }

  /** The pass in this process: now, or once more after the one under way. */
  runHere(pass: ReducePass): Promise<ReduceReport[]> {
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
