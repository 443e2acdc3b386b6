import type { Agent } from '../agents/agent.js';
import type { RepoConfig } from '../config/schema.js';
import type { BotIdentity } from '../github/bot-identity.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { GitHub } from '../github/port.js';
import type { Workspace } from '../git/workspace.js';
import type { ProfileRecorder } from '../profile/profile-event.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Settings } from '../settings/load-settings.js';
import type { IssueStatuses } from '../status/issue-statuses.js';
import type { IssueSpend } from './issue-spend.js';

/** What a job of any pipeline (map, revision, rebase) needs from the process. */
export interface JobDeps {
  settings: Settings;
  workspace: Workspace;
  comments: MarkedComments;
  /** Where each issue stands: its labels, and its status comment when one is called for. */
  statuses: IssueStatuses;
  permissions: PermissionCache;
  createAgent(config: RepoConfig): Agent;
  profile: ProfileRecorder;
  /** What each issue spent over all its runs, against `agent.maxIssueCostUsd`. */
  spend: IssueSpend;
  botIdentity(github: GitHub): Promise<BotIdentity>;
  /** Where setup commands run. */
  sandbox: Sandbox;
  /** Extra environment for git commands (tests shut out the machine's git config with it). */
  gitEnv?: Record<string, string>;
}
