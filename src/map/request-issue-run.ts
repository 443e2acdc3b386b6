import { reportConfigProblems } from '../config/report-config-problems.js';
import type { Actor, GitHub, IssueInfo, RepositoryInfo } from '../github/port.js';
import type { Logger } from '../log.js';
import type { ConfigCache } from '../config/config-cache.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { MapService } from './map-service.js';
import type { IssueStatuses } from '../status/issue-statuses.js';
import type { MapRequestResult } from './map-service.js';
import type { IssueSpend } from '../pipeline/issue-spend.js';

export interface IssueRunAsk {
  github: GitHub;
  repository: RepositoryInfo;
  issue: IssueInfo;
  /** Who asked: the person who labelled the issue or commented `/agent retry`. */
  requester: Actor;
  since: number;
  /** A retry runs even when a PR is open, and replaces its branch. */
  retry: boolean;
  /** Plan first; by default what the repository's `map.plan` says. */
  mode?: 'plan' | 'implement';
  /** An approved plan (with `/agent go` guidance) to implement. */
  plan?: string;
  log: Logger;
}

export type IssueRunAnswer = MapRequestResult | 'not-writer' | 'config-invalid' | 'not-labelled' | 'over-budget';

/**
 * Decides whether an issue may run and queues it:
 * 1. the repository's config must be valid (else its problems are quoted on the issue);
 * 2. the person asking must have write access (else a polite refusal);
 * 3. the issue must have budget left under `agent.maxIssueCostUsd` (else its total is shown);
 * 4. the attempt number continues from the issue's last recorded run;
 * 5. priority-labelled issues go first.
 */
/** What asking for an issue's run reads and writes. */
export interface IssueRunDeps {
  configs: ConfigCache;
  comments: MarkedComments;
  statuses: IssueStatuses;
  permissions: PermissionCache;
  map: MapService;
  spend: IssueSpend;
}

export async function requestIssueRun(services: IssueRunDeps, ask: IssueRunAsk): Promise<IssueRunAnswer> {
  const { github, issue, requester, log } = ask;
  const config = await services.configs.get(github);
  if (!config.ok) {
    await reportConfigProblems(github, services.comments, issue.number, config.problems);
    log.warn({ problems: config.problems }, 'issue not run: invalid config');
    return 'config-invalid';
  }
  const { label } = config.config;
  if (!issue.labels.includes(label)) return 'not-labelled';

  if (!(await services.permissions.isWriter(github, requester.login))) {
    log.info({ requester: requester.login }, 'issue not run: requester is not a writer');
    await github.createComment(issue.number,
      `@${requester.login} thanks — only people with write access to this repository can hand an issue to ` +
      `agent-mapreduce, so the \`${label}\` label does nothing here. A maintainer can add it instead.`);
    return 'not-writer';
  }

  const overBudget = await services.spend.refusal(github, issue.number, config.config);
  if (overBudget) {
    log.info({ spent: await services.spend.spent(github, issue.number) }, 'issue not run: its budget is spent');
    await services.statuses.show(github, issue.number, { status: { state: 'cancelled', reason: overBudget } });
    return 'over-budget';
  }

  const freshIssue = issue.comments === 0;
  // without comments this reads nothing: the state is in the issue's labels
  const previous = await services.statuses.read(github, issue);
  const attempt = (previous?.attempt ?? 0) + 1;
  const result = await services.map.request({
    github,
    repository: ask.repository,
    issueNumber: issue.number,
    issue,
    requester,
    since: ask.since,
    config: config.config,
    attempt,
    replaceOpenPull: ask.retry,
    mode: ask.mode ?? (config.config.map.plan ? 'plan' : 'implement'),
    ...(ask.plan ? { plan: ask.plan } : {}),
    freshIssue,
    priority: issue.labels.some((l) => config.config.map.priorityLabels.includes(l)),
    log,
  });
  log.info({ result, attempt }, 'issue run requested');
  return result;
}
