import type { CancelResult, EnqueueResult, Job, JobQueue, JobSlot, SchedulerEvent } from './job-queue.js';

/**
 * Where a started job is: `preparing`, started ahead of its slot to make its worktree ready (only jobs
 * that `prepare`); `working`, holding a slot (its agent at work); `finishing`, its slot given back
 * (publishing its result).
 */
type Phase = 'preparing' | 'working' | 'finishing';

interface Running {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
  phase: Phase;
  /** Set while a preparing job waits for its slot: grants it. */
  grant?: () => void;
  /**
   * Set while the job waits for another process of the fleet to finish its key: it holds no place
   * here meanwhile, or a duplicate (another process's reconcile asked for an issue already at work)
   * would keep this process's other jobs from even getting ready.
   */
  parked?: boolean;
}

/**
 * Runs keyed jobs with a global cap and a cap per group, in priority order. Enqueueing a key that is
 * queued or running does nothing, so duplicate webhook deliveries cost nothing. A job that throws is
 * reported as finished with its error and never stops the others. The in-process job queue: one
 * process, no extra server.
 */
export class Scheduler implements JobQueue {
  #globalCap: number;
  /** How many jobs may get ready ahead of their slots at once; the global cap unless told otherwise. */
  #readyAhead: number | undefined;
  #queue: Job[] = [];
  readonly #running = new Map<string, Running>();
  readonly #next = new Map<string, Job>();
  /** When each queued or running job was queued: a fleet's line breaks ties of `since` with it (label times are whole seconds). */
  readonly #queuedAt = new Map<string, number>();
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
    const queuedAt = Date.now();
    this.#queuedAt.set(job.key, queuedAt);
    this.#emit({ kind: 'queued', key: job.key, work: job.work, priority: job.priority, since: job.since, queuedAt });
    this.#pump();
    return 'queued';
  }

  /** Takes a queued job out of the queue, or aborts a running one (it frees its slot once it has stopped). */
  cancel(key: string, reason: string | Error = 'cancelled'): CancelResult {
    const index = this.#queue.findIndex((j) => j.key === key);
    this.#next.delete(key);
    if (index !== -1) {
      const [job] = this.#queue.splice(index, 1);
      this.#queuedAt.delete(key);
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
    return [...this.#running.values()].filter((r) => r.phase === 'working').map((r) => r.job.key);
  }

  get globalCap(): number {
    return this.#globalCap;
  }

  /** Changes the global cap, e.g. to start fewer runs while the model API is rate limiting. */
  setGlobalCap(cap: number): void {
    this.#globalCap = Math.max(1, cap);
    this.#pump();
  }

  /**
   * How many jobs at most get ready ahead of their slots at once (undefined: as many as the global
   * cap). A fleet's worker readies only its share of the fleet's cap: with each of N workers readying
   * the whole cap, N times the clones and checkouts the fleet can start would run at once, on the
   * same cores, and N times the worktrees would wait; the first agents would wait for all of them.
   */
  setReadyAhead(jobs: number | undefined): void {
    this.#readyAhead = jobs === undefined ? undefined : Math.max(1, jobs);
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

  /**
   * 1. Slots go to the jobs that wait for one, first in line first: prepared jobs that asked, and
   *    queued jobs that do not prepare; never more working than the caps, nor more working and
   *    finishing than twice the caps (so agents never outrun a slow publish, such as GitHub's write
   *    budget waiting), in all and per group.
   * 2. Jobs that prepare start ahead of their slot, as many at a time as there are slots (or as the
   *    share set by setReadyAhead; per group: as its cap), so that the next agents start the moment
   *    slots free up.
   */
  #pump(): void {
    for (;;) {
      const next = this.#nextForSlot();
      if (!next) break;
      if ('controller' in next) {
        next.phase = 'working';
        const grant = next.grant!;
        delete next.grant;
        grant();
      } else {
        this.#queue.splice(this.#queue.indexOf(next), 1);
        this.#start(next, 'working');
      }
    }
    const ahead = Math.min(this.#globalCap, this.#readyAhead ?? this.#globalCap);
    for (let i = 0; i < this.#queue.length && this.#count('preparing') < ahead;) {
      const job = this.#queue[i]!;
      if (!job.prepares || this.#count('preparing', job.group) >= job.groupCap) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#start(job, 'preparing');
    }
  }

  /** The first in line of the jobs that may take a slot now: a prepared job that asked, or a queued job that does not prepare. */
  #nextForSlot(): Running | Job | undefined {
    if (!this.#hasRoom(this.#globalCap)) return undefined;
    const asking = [...this.#running.values()].filter((r) => r.grant !== undefined);
    const candidates: Array<Running | Job> = [...asking, ...this.#queue.filter((j) => !j.prepares)];
    const jobOf = (c: Running | Job): Job => ('controller' in c ? c.job : c);
    candidates.sort((a, b) => (comesBefore(jobOf(a), jobOf(b)) ? -1 : comesBefore(jobOf(b), jobOf(a)) ? 1 : 0));
    return candidates.find((c) => this.#hasRoom(jobOf(c).groupCap, jobOf(c).group));
  }

  #hasRoom(cap: number, group?: string): boolean {
    const working = this.#count('working', group);
    return working < cap && working + this.#count('finishing', group) < 2 * cap;
  }

  #count(phase: Phase, group?: string): number {
    let count = 0;
    for (const r of this.#running.values()) if (r.phase === phase && !r.parked && (group === undefined || r.job.group === group)) count++;
    return count;
  }

  #start(job: Job, phase: Phase): void {
    const controller = new AbortController();
    const running: Running = { job, controller, done: Promise.resolve(), phase };
    let wanted!: () => void;
    const slotWanted = new Promise<void>((resolve) => { wanted = resolve; });
    let taken!: () => void;
    const slotTaken = this.#exclusive ? new Promise<void>((resolve) => { taken = resolve; }) : Promise.resolve();
    let released!: () => void;
    const slotReleased = new Promise<void>((resolve) => { released = resolve; });
    const slot: JobSlot = {
      acquire: async () => {
        // the slot beyond this process first (a fleet's line), so that a job waiting there holds none
        // here, where a later job of higher priority would wait behind it before it could even get in line
        wanted();
        await slotTaken;
        if (running.phase === 'preparing' && running.grant === undefined && !controller.signal.aborted) {
          // cancelled while it waits: it goes on without a slot, only to see that and say so
          await new Promise<void>((resolve) => {
            running.grant = resolve;
            controller.signal.addEventListener('abort', () => {
              if (running.grant !== resolve) return;
              delete running.grant;
              resolve();
            }, { once: true });
            this.#pump();
          });
        }
      },
      release: () => {
        if (running.phase !== 'working') return;
        running.phase = 'finishing';
        released();
        this.#pump();
      },
    };
    this.#running.set(job.key, running);
    this.#emit({ kind: 'started', key: job.key, work: job.work });
    running.done = (async () => {
      let error: unknown;
      try {
        // a job that does not prepare has its slot here before it starts (unless it gave it up while
        // parked: then it asks again), and one beyond once taken
        const run = (): Promise<void> => {
          if (job.prepares) return job.run(controller.signal, slot);
          if (running.phase === 'preparing') return slot.acquire().then(() => job.run(controller.signal, slot));
          wanted();
          return this.#exclusive ? slotTaken.then(() => job.run(controller.signal, slot)) : job.run(controller.signal, slot);
        };
        const parked = (waiting: boolean) => {
          running.parked = waiting;
          // a job parked before its run gives its place up; back, it asks for a slot like a prepared job
          if (waiting && running.phase === 'working') running.phase = 'preparing';
          this.#pump();
        };
        const queuedAt = this.#queuedAt.get(job.key) ?? Date.now();
        await (this.#exclusive ? this.#exclusive(job, run, { controller, slotWanted, slotTaken: taken, slotReleased, parked, queuedAt }) : run());
      } catch (e) {
        error = e;
      }
      this.#running.delete(job.key);
      this.#queuedAt.delete(job.key);
      this.#emit(error === undefined ? { kind: 'finished', key: job.key, work: job.work } : { kind: 'finished', key: job.key, work: job.work, error });
      const next = this.#next.get(job.key);
      this.#next.delete(job.key);
      if (next && this.#accepting) this.enqueue(next);
      this.#pump();
    })();
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
 * Runs `run` only where no other process runs the same key, and within caps beyond this process:
 * when `slotWanted` resolves (the job asks for its slot), it takes one of the caps beyond and then
 * calls `slotTaken`, and gives it back when `slotReleased` resolves or the run ends. `controller`
 * aborts the run if that can no longer be kept, and says when it was cancelled meanwhile; `parked`
 * says while it waits for another process to finish the key.
 */
export interface ExclusiveContext {
  controller: AbortController;
  slotWanted: Promise<void>;
  slotTaken: () => void;
  slotReleased: Promise<void>;
  /** Says the job waits (true) for another process to finish its key before its run, or no longer does (false). */
  parked: (waiting: boolean) => void;
  /** When the job was queued (ms since the epoch). */
  queuedAt: number;
}
export type Exclusive = (job: Job, run: () => Promise<void>, context: ExclusiveContext) => Promise<void>;

function comesBefore(a: Job, b: Job): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.since < b.since;
}
