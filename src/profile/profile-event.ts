import type { AgentUsage } from '../agents/agent.js';
import type { JobWork } from '../jobs/job-queue.js';

/** An issue of a repository; `repo` is `owner/name`. */
export interface IssueRef {
  repo: string;
  issue: number;
}

export type ReviewState = 'approved' | 'changes_requested' | 'commented' | 'dismissed';

/**
 * What the pipelines and handlers tell the profile. `at` is when it happened (now, if not given):
 * events rebuilt from GitHub after a restart carry their own time, and the profile counts in its
 * metrics only what happened while this process ran.
 */
export type ProfileEvent = IssueRef & { at?: number } & (
  /** The issue as GitHub shows it; `failed` when it carries `agent:failed`. */
  | { type: 'seen'; title: string; failed?: boolean }
  | { type: 'queued' | 'dequeued' | 'started' | 'finished'; work: JobWork }
  /** Held before the queue (pacing to reviewers, open blockers): why, in words; `reason` absent when released. */
  | { type: 'waiting'; reason?: string }
  | { type: 'step'; tool: string }
  | { type: 'agent-used'; work: JobWork; usage: AgentUsage }
  /** How a run ended: an `IssueJobOutcome` or `RevisionOutcome` kind. */
  | { type: 'ended'; work: JobWork; outcome: string; reason?: string }
  /**
   * The app opened the PR (`opened`), or found it open. Where the app opens it, it also gives the
   * pushed head (`sha`) and the reviewer's breadcrumb: the agent's summary (what changed, how it was
   * verified) and the changed files, which the Ready for review page shows.
   */
  | { type: 'pull'; pr: number; url: string; base: string; openedAt?: number; opened?: boolean; sha?: string; summary?: string; files?: string[] }
  | { type: 'review'; pr: number; id: number; author: string; state: ReviewState }
  | { type: 'revised'; pr: number; sha: string }
  /** The required checks of the PR's head: running, green or red (the names of the red ones). */
  | { type: 'checks'; pr: number; sha: string; state: 'pending' | 'passed' | 'failed'; failed?: string[] }
  /** A reduce pass flagged the PR; `fresh` when it was not flagged before. */
  | { type: 'conflict'; pr: number; files: string[]; with: string; fresh: boolean }
  | { type: 'conflict-cleared'; pr: number }
  | { type: 'merged' | 'closed'; pr: number }
);

export interface ReducePassRecord {
  repo: string;
  base: string;
  order: number[];
  merged: number[];
  flagged: number[];
  waiting: Array<{ number: number; reason: string }>;
  failed: boolean;
  durationMs: number;
}

/** The narrow view of the profile that the pipelines get. */
export interface ProfileRecorder {
  record(event: ProfileEvent): void;
  reducePass(pass: ReducePassRecord): void;
}

/** A recorder that keeps nothing (unit tests of a pipeline that do not look at the profile). */
export const NO_PROFILE: ProfileRecorder = { record: () => undefined, reducePass: () => undefined };
