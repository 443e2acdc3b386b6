import type { Agent } from '../agents/agent.js';
import type { RepoConfig } from '../config/schema.js';
import type { BotIdentity } from '../github/bot-identity.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { Actor, GitHub, RepositoryInfo } from '../github/port.js';
import type { Workspace } from '../git/workspace.js';
import type { Logger } from '../log.js';
import type { ProfileRecorder } from '../profile/profile-event.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Settings } from '../settings/load-settings.js';

/** What the map pipeline needs from the process. */
export interface MapDeps {
  settings: Settings;
  workspace: Workspace;
  comments: MarkedComments;
  permissions: PermissionCache;
  createAgent(config: RepoConfig): Agent;
  profile: ProfileRecorder;
  botIdentity(github: GitHub): Promise<BotIdentity>;
  /** Where setup commands run. */
  sandbox: Sandbox;
  /** Extra environment for git commands (tests shut out the machine's git config with it). */
  gitEnv?: Record<string, string>;
}

export interface IssueJob {
  github: GitHub;
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
