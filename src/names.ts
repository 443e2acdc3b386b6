/**
 * The names the app writes on GitHub and in git, in one place: labels, check runs, the kinds of its
 * marked comments, and its branch scheme. Every folder reads them from here, the GitHub adapter too.
 */

/** The label that hands an issue to the agent when a repository's config names none. */
export const DEFAULT_LABEL = 'agent';
/** On an issue whose run failed; `/agent retry` or a new label runs it again. */
export const FAILED_LABEL = 'agent:failed';
/** On an issue while it is queued or its agent runs: it was taken, without a comment to say so. */
export const WORKING_LABEL = 'agent:working';
/** On an issue held before the queue while the agent PRs of its base wait for review (`map.maxAwaitingReview`). */
export const AWAITING_REVIEWS_LABEL = 'agent:awaiting-reviews';
/** On an issue held before the queue while an issue that blocks it is open (GitHub shows which, beside it). */
export const BLOCKED_LABEL = 'agent:blocked';
/** On an issue once its agent opened a PR (linked in the issue's timeline and sidebar): the agent's part is done. */
export const PR_OPENED_LABEL = 'agent:pr-opened';
/** On an agent PR that conflicts with its base or another PR. */
export const CONFLICT_LABEL = 'agent:conflict';
/** On an agent PR that a writer held back from merging (`/agent hold`). */
export const HOLD_LABEL = 'agent:hold';
/** On an agent PR that failed CI in a merge train on its own: out of the order until its head changes. */
export const TRAIN_FAILED_LABEL = 'agent:ci-failed';

/** Every label the app itself adds and removes. */
export const APP_LABELS: ReadonlySet<string> = new Set([
  FAILED_LABEL, WORKING_LABEL, AWAITING_REVIEWS_LABEL, BLOCKED_LABEL, PR_OPENED_LABEL, CONFLICT_LABEL, HOLD_LABEL, TRAIN_FAILED_LABEL,
]);

/** The check run of each agent run, on its PR's head. */
export const CHECK_NAME = 'agent-mapreduce';
/** The check run that shows a PR's place in the merge order. */
export const ORDER_CHECK = 'agent-mapreduce/merge-order';

/** Kinds of the app's marked comments: at most one of each per issue or PR, edited in place. */
export const STATUS_KIND = 'status';
export const PLAN_KIND = 'plan';
export const CONFLICT_KIND = 'conflict';
export const CONFIG_PROBLEMS_KIND = 'config';
export const TRAIN_FAILED_KIND = 'train-failed';

/** The branches the app pushes its agents' work to. */
export const AGENT_BRANCH_PREFIX = 'agent/';
/** The branches of the app's merge trains: `agent-mapreduce/train/<base>/<n>`, tested by CI, never merged. */
export const TRAIN_BRANCH_PREFIX = 'agent-mapreduce/train/';

/** The only branches the app pushes to. */
export function isAppBranch(branch: string): boolean {
  return branch.startsWith(AGENT_BRANCH_PREFIX) || branch.startsWith(TRAIN_BRANCH_PREFIX);
}

/** Where train `n` of the base branch is tested. */
export function trainBranch(baseRef: string, n: number): string {
  return `${trainBranchPrefix(baseRef)}${n}`;
}

/** What the train branches of one base branch start with. */
export function trainBranchPrefix(baseRef: string): string {
  return `${TRAIN_BRANCH_PREFIX}${baseRef}/`;
}

/** `agent/issue-<n>-<slug>`: the slug keeps the branch readable; the number alone identifies it. */
export function branchName(issueNumber: number, title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug ? `${issueBranchPrefix(issueNumber)}-${slug}` : issueBranchPrefix(issueNumber);
}

/** What every branch of the issue starts with (`agent/issue-<n>`), whatever its slug or suffix. */
function issueBranchPrefix(issueNumber: number): string {
  return `${AGENT_BRANCH_PREFIX}issue-${issueNumber}`;
}

const branchPattern = /^agent\/issue-(\d+)(?:-|$)/;

/** The issue an agent branch works on, or undefined for any other branch. */
export function issueOfBranch(branch: string): number | undefined {
  const match = branchPattern.exec(branch);
  return match ? Number(match[1]) : undefined;
}
