import type { RepoConfig } from '../config/schema.js';
import type { GitHub, RepositoryInfo } from '../github/port.js';
import type { Logger } from '../log.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { Feedback } from './feedback.js';
import { runRebaseJob, type RebaseJob, type RebaseOutcome } from './run-rebase-job.js';
import { runRevisionJob, type RevisionDeps, type RevisionOutcome } from './run-revision-job.js';
import { issueKey } from '../jobs/job-key.js';
import { recordEnded } from '../pipeline/record-ended.js';

export interface RevisionAsk {
  github: GitHub;
  repository: RepositoryInfo;
  pullNumber: number;
  issueNumber: number;
  config: RepoConfig;
  feedback: Feedback;
  log: Logger;
}

/**
 * Revision runs share the issue's key with its map job, so one issue has one job at a time.
 * Feedback waits in a per-issue list; a run takes everything waiting when it starts, and
 * feedback that arrives while it runs starts exactly one more run when it ends: never lost,
 * never run twice.
 */
export class RevisionService {
  readonly #deps: RevisionDeps;
  readonly #scheduler: JobQueue;
  readonly #waiting = new Map<string, { ask: RevisionAsk; feedback: Feedback[] }>();
  /** Feedback already taken, by issue, kind and id: a redelivered review is not run twice. */
  readonly #seen = new Set<string>();

  constructor(deps: RevisionDeps, scheduler: JobQueue) {
    this.#deps = deps;
    this.#scheduler = scheduler;
    scheduler.onEvent((event) => {
      if (event.kind === 'finished' && this.#waiting.has(event.key)) this.#enqueue(event.key);
    });
  }


  /**
   * Feedback from CI takes the same way: while a person's revision is queued it folds into that run (one
   * run, one push, one CI cycle for both); while one runs it waits, and is dropped at the next run's start
   * if that revision moved the head, whose new CI then speaks for itself.
   */
  request(ask: RevisionAsk): 'queued' | 'waiting' | 'duplicate' {
    const key = issueKey(ask.github.owner, ask.github.repo, ask.issueNumber);
    const seen = `${key}:${ask.feedback.kind}:${ask.feedback.id}`;
    if (this.#seen.has(seen)) return 'duplicate';
    this.#seen.add(seen);
    if (this.#seen.size > 10_000) this.#seen.delete(this.#seen.values().next().value!);
    const entry = this.#waiting.get(key);
    if (entry) {
      entry.feedback.push(ask.feedback);
      entry.ask = ask;
    } else {
      this.#waiting.set(key, { ask, feedback: [ask.feedback] });
    }
    return this.#enqueue(key) ? 'queued' : 'waiting';
  }

  /** Queues `/agent rebase` of the issue's PR; 'busy' when the issue already has a job. */
  rebase(job: RebaseJob): 'queued' | 'busy' {
    const key = issueKey(job.github.owner, job.github.repo, job.issueNumber);
    const result = this.#scheduler.enqueue({
      key,
      work: 'rebase',
      group: `${job.github.owner}/${job.github.repo}`,
      groupCap: job.config.map.concurrency,
      priority: 1,
      since: Date.now(),
      run: async (signal) => {
        const outcome = await runRebaseJob(this.#deps, job, signal).catch((err: unknown): RebaseOutcome => {
          job.log.error({ err }, 'rebase broke');
          return { kind: 'failed', reason: String(err) };
        });
        job.log.info({ outcome }, 'rebase ended');
        recordEnded(this.#deps.profile, key, 'rebase', outcome);
      },
    });
    return result === 'queued' ? 'queued' : 'busy';
  }

  /** `/agent stop` on its PR: cancels the issue's revision or rebase, queued or running, and drops its waiting feedback. */
  stop(github: GitHub, issueNumber: number, reason: string): 'stopped' | 'not-found' {
    const key = issueKey(github.owner, github.repo, issueNumber);
    const result = this.#scheduler.cancel(key, reason);
    const hadFeedback = this.#waiting.delete(key);
    return result === 'not-found' && !hadFeedback ? 'not-found' : 'stopped';
  }

  #enqueue(key: string): boolean {
    const entry = this.#waiting.get(key);
    if (!entry) return false;
    const { ask } = entry;
    const result = this.#scheduler.enqueue({
      key,
      work: 'revision',
      group: `${ask.github.owner}/${ask.github.repo}`,
      groupCap: ask.config.map.concurrency,
      priority: 1, // a person is waiting on this PR
      since: Date.now(),
      run: async (signal, slot) => {
        const taken = this.#waiting.get(key);
        this.#waiting.delete(key);
        if (!taken) return;
        const log = taken.ask.log.child({ revision: true });
        const outcome = await runRevisionJob(this.#deps, { ...taken.ask, feedback: taken.feedback, log }, signal, slot)
          .catch((err: unknown): RevisionOutcome => {
            log.error({ err }, 'revision broke');
            return { kind: 'failed', reason: String(err) };
          });
        recordEnded(this.#deps.profile, key, 'revision', outcome);
      },
    });
    return result === 'queued';
  }
}
