import type { RepoConfig } from '../config/schema.js';
import type { Actor, GitHub, IssueInfo, RepositoryInfo } from '../github/port.js';
import type { Logger } from '../log.js';

/** An issue asked to run, as the map service admits, holds and queues it. */
export interface MapRequest {
  github: GitHub;
  repository: RepositoryInfo;
  issueNumber: number;
  /** The issue as read when it was asked for: its body and blockers decide whether it waits. */
  issue: Pick<IssueInfo, 'number' | 'body' | 'openBlockers'>;
  requester: Actor;
  /** When the issue was handed over (label time): earlier starts first. */
  since: number;
  config: RepoConfig;
  /** The attempt this run will be: one more than the issue's last recorded run. */
  attempt: number;
  replaceOpenPull: boolean;
  mode: 'plan' | 'implement';
  plan?: string;
  /** The issue has no comment of the app's yet, so its first status need not look for one. */
  freshIssue: boolean;
  priority: boolean;
  log: Logger;
}
