import type { CancelResult, EnqueueResult, Job, JobQueue, SchedulerEvent } from './job-queue.js';

interface Running {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
  /** Counts against the caps until the job releases its slot. */
  holdsSlot: boolean;
}

/**
 * Runs keyed jobs with a global cap and a cap per group, in priority order. Enqueueing a key that is
 * queued or running does nothing, so duplicate webhook deliveries cost nothing. A job that throws is
 * reported as finished with its error and never stops the others. The in-process job queue: one
 * process, no extra server.
 */
export class Scheduler implements JobQueue {
  #globalCap: number;
  #queue: Job[] = [];
  readonly #running = new Map<string, Running>();
  readonly #next = new Map<string, Job>();
  readonly #listeners: Array<(event: SchedulerEvent) => void> = [];
  #accepting = true;

  readonly #exclusive: Exclusive | undefined;

  /** `exclusive`: how a job's run is kept the only one of its key beyond this process (a fleet's lock). */
  constructor(options: { globalCap: number; exclusive?: Exclusive }) {
    this.#globalCap = options.globalCap;
    this.#exclusive = options.exclusive;
  }

  onEvent(listener: (event: SchedulerEvent) => void): void {
    this.#listeners.push(listener);
  }

  enqueue(job: Job): EnqueueResult {
    if (!this.#accepting) return 'stopped';
    const running = this.#running.get(job.key);
    if (running?.controller.signal.aborted) {
      // asked for again while its cancelled run winds down: start afresh once that run has stopped
      this.#next.set(job.key, job);
      return 'queued';
    }
    if (running) return 'already-running';
    if (this.#queue.some((j) => j.key === job.key)) return 'already-queued';
    const at = this.#queue.findIndex((j) => comesBefore(job, j));
    this.#queue.splice(at === -1 ? this.#queue.length : at, 0, job);
    this.#emit({ kind: 'queued', key: job.key, work: job.work });
    this.#pump();
    return 'queued';
  }

  /** Takes a queued job out of the queue, or aborts a running one (it frees its slot once it has stopped). */
  cancel(key: string, reason: string | Error = 'cancelled'): CancelResult {
    const index = this.#queue.findIndex((j) => j.key === key);
    this.#next.delete(key);
    if (index !== -1) {
      const [job] = this.#queue.splice(index, 1);
      this.#emit({ kind: 'dequeued', key, work: job!.work });
      return 'dequeued';
    }
    const running = this.#running.get(key);
    if (!running) return 'not-found';
    running.controller.abort(reason instanceof Error ? reason : new Error(reason));
    return 'aborted';
  }

  state(key: string): 'queued' | 'running' | undefined {
    if (this.#running.has(key)) return 'running';
    return this.#queue.some((j) => j.key === key) ? 'queued' : undefined;
  }

  /** 1 for the next job to start; undefined when the key is not queued. */
  position(key: string): number | undefined {
    const index = this.#queue.findIndex((j) => j.key === key);
    return index === -1 ? undefined : index + 1;
  }

  queuedKeys(): string[] {
    return this.#queue.map((j) => j.key);
  }

  runningKeys(): string[] {
    return [...this.#running.keys()];
  }

  slotKeys(): string[] {
    return [...this.#running.values()].filter((r) => r.holdsSlot).map((r) => r.job.key);
  }

  get globalCap(): number {
    return this.#globalCap;
  }

  /** Changes the global cap, e.g. to start fewer runs while the model API is rate limiting. */
  setGlobalCap(cap: number): void {
    this.#globalCap = Math.max(1, cap);
    this.#pump();
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#queue.length > 0) {
      await Promise.race([...this.#running.values()].map((r) => r.done));
    }
  }

  /** Stops taking work: the queue is emptied (its keys are returned) and nothing new is accepted. */

  stopAccepting(): string[] {
    this.#accepting = false;
    const dropped = this.#queue.map((j) => j.key);
    this.#queue = [];
    return dropped;
  }

  #pump(): void {
    // a job that gave its slot back still holds a worktree while it publishes: at most as many
    // of those as slots, so that agents never outrun a slow publish (GitHub's write budget waiting)
    for (let i = 0; i < this.#queue.length && this.#slotsHeld() < this.#globalCap && this.#running.size < 2 * this.#globalCap;) {
      const job = this.#queue[i]!;
      const inGroup = this.#runningInGroup(job.group);
      if (inGroup.holding >= job.groupCap || inGroup.all >= 2 * job.groupCap) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#start(job);
    }
  }

  #start(job: Job): void {
    const controller = new AbortController();
    const running: Running = { job, controller, done: Promise.resolve(), holdsSlot: true };
    let released!: () => void;
    const slotReleased = new Promise<void>((resolve) => { released = resolve; });
    const slot = {
      release: () => {
        if (!running.holdsSlot) return;
        running.holdsSlot = false;
        released();
        this.#pump();
      },
    };
    this.#running.set(job.key, running);
    this.#emit({ kind: 'started', key: job.key, work: job.work });
    running.done = (async () => {
      let error: unknown;
      try {
        const run = () => job.run(controller.signal, slot);
        await (this.#exclusive ? this.#exclusive(job, run, { controller, slotReleased }) : run());
      } catch (e) {
        error = e;
      }
      this.#running.delete(job.key);
      this.#emit(error === undefined ? { kind: 'finished', key: job.key, work: job.work } : { kind: 'finished', key: job.key, work: job.work, error });
      const next = this.#next.get(job.key);
      this.#next.delete(job.key);
      if (next && this.#accepting) this.enqueue(next);
      this.#pump();
    })();
  }

  #runningInGroup(group: string): { holding: number; all: number } {
    const count = { holding: 0, all: 0 };
    for (const r of this.#running.values()) {
      if (r.job.group !== group) continue;
      count.all++;
      if (r.holdsSlot) count.holding++;
    }
    return count;
  }

  #slotsHeld(): number {
    let count = 0;
    for (const r of this.#running.values()) if (r.holdsSlot) count++;
    return count;
  }

  #emit(event: SchedulerEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure must not stop the queue
      }
    }
  }
}

/**
 * Runs `run` only where no other process runs the same key, and within caps beyond this process;
 * `controller` aborts it if that can no longer be kept, and says when it was cancelled meanwhile;
 * `slotReleased` resolves when the job gives its place under the caps back early.
 */
export type Exclusive = (job: Job, run: () => Promise<void>, context: { controller: AbortController; slotReleased: Promise<void> }) => Promise<void>;

function comesBefore(a: Job, b: Job): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.since < b.since;
}
