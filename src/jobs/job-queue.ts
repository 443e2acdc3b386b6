/** What a job does to its issue; the profile tells runs apart by it. */
export type JobWork = 'map' | 'revision' | 'rebase';

/** One unit of work, keyed by what it works on (`owner/repo#n`); at most one per key at a time. */
export interface Job {
  key: string;
  work: JobWork;
  /** The repository; `groupCap` jobs of one group may run at once. */
  group: string;
  groupCap: number;
  /** Higher starts first; ties go to the earlier `since`. */
  priority: number;
  /** When the work was asked for (label time), in ms since the epoch. */
  since: number;
  /**
   * The job starts ahead of its slot, as one of the next in line, to get ready (its worktree), and
   * calls `slot.acquire()` before its agent; otherwise it starts once it has its slot.
   */
  prepares?: boolean;
  /** `slot.release()` frees the job's place under the caps while it finishes (see JobSlot). */
  run(signal: AbortSignal, slot: JobSlot): Promise<void>;
}

/**
 * A running job's place under the caps. The caps bound agents at work, so a job whose agent is done
 * releases it, and the next job's agent starts while this one commits, pushes and opens its PR; the
 * job still holds its key (nothing else runs on its issue) until it returns, and no more jobs may be
 * finishing so than there are slots (in all, and per group). Releasing twice is a no-op.
 */
export interface JobSlot {
  /** Waits for a slot (at once for a job that does not prepare: it has one); a cancelled job gets none and goes on to see that. */
  acquire(): Promise<void>;
  release(): void;
}

export type EnqueueResult = 'queued' | 'already-queued' | 'already-running' | 'stopped';
export type CancelResult = 'dequeued' | 'aborted' | 'not-found';
export type SchedulerEvent =
  | { kind: 'queued'; key: string; work: JobWork; priority: number; since: number; queuedAt: number }
  | { kind: 'dequeued' | 'started'; key: string; work: JobWork }
  | { kind: 'finished'; key: string; work: JobWork; error?: unknown };

/**
 * Where the pipelines put their jobs: keyed, capped per repository and in all, in priority order,
 * cancellable, and telling its listeners as jobs are queued, started and finished. The in-process
 * Scheduler is the implementation today.
 */
export interface JobQueue {
  enqueue(job: Job): EnqueueResult;
  cancel(key: string, reason?: string | Error): CancelResult;
  state(key: string): 'queued' | 'running' | undefined;
  /** 1-based place in the queue; undefined when not queued. */
  position(key: string): number | undefined;
  queuedKeys(): string[];
  runningKeys(): string[];
  /** The running jobs that still hold their slot: their agents are at work. */
  slotKeys(): string[];
  readonly globalCap: number;
  setGlobalCap(cap: number): void;
  onEvent(listener: (event: SchedulerEvent) => void): void;
  /** Resolves once nothing runs and nothing is queued. */
  idle(): Promise<void>;
  /** Takes no new jobs from now on; returns the keys that were queued and are dropped. */
  stopAccepting(): string[];
}
