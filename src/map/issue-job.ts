import type { RepoConfig } from '../config/schema.js';
import type { Actor, GitHub, RepositoryInfo } from '../github/port.js';
import type { Logger } from '../log.js';
import type { JobDeps } from '../pipeline/job-deps.js';

/** What the map pipeline needs from the process: what every job needs. */
export type MapDeps = JobDeps;

export interface IssueJob {
  github: GitHub;
  /** When the run was queued (Date.now()): it starts from the base branch as fetched then or later. */
  queuedAt: number;
  repository: RepositoryInfo;
  issueNumber: number;
  /** Who handed the issue to the agent: credited as co-author. */
  requester: Actor;
  config: RepoConfig;
  attempt: number;
  /** Run even though a PR for the issue is open (a retry); the branch is replaced. */
  replaceOpenPull: boolean;
  /** plan: investigate read-only and post a plan; implement: change the code (following `plan`, if one was approved). */
  mode: 'plan' | 'implement';
  /** The approved plan and the guidance given with `/agent go`. */
  plan?: string;
  log: Logger;
}

/** Why a run is stopped when the app shuts down: it is interrupted, not cancelled, and resumes after. */
export class ShutdownError extends Error {
  override name = 'ShutdownError';
}

export type IssueJobOutcome =
  | { kind: 'pr-opened' | 'pr-updated'; pr: number }
  | { kind: 'planned'; plan: string }
  | { kind: 'no-change' | 'not-actionable' | 'failed' | 'cancelled' | 'skipped'; reason: string };
