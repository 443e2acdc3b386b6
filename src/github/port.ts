/**
 * The narrow view of GitHub that the pipelines use, bound to one repository of one installation.
 * `createOctokitGitHub` is the one real implementation; tests drive it through nock at the HTTP level.
 */
export interface GitHub {
  readonly owner: string;
  readonly repo: string;
  /** The installation the calls are made as: another process can reach the repository again with it. */
  readonly installationId: number;
  /** The repository's config file and what it `_extends`, as layers: the farthest first, the repository's own last; none when there is no file. */
  readConfigLayers(path: string): Promise<Array<Record<string, unknown>>>;
  /** The user's base permission on this repository. */
  getPermission(login: string): Promise<Permission>;
  /**
   * Runs `use` with a token for git over HTTPS that can do only this: `read` (fetch) or `write`
   * (push) the contents of this one repository. It is revoked when `use` ends, and only ever handed
   * to git through its environment.
   */
  withGitToken<T>(access: 'read' | 'write', use: (token: string) => Promise<T>): Promise<T>;
  /** Every branch of the repository with its tip, as GitHub has them now (a conditional read: free while nothing moved). */
  branchHeads(): Promise<Map<string, string>>;

  getUserId(login: string): Promise<number>;
  getIssue(issueNumber: number): Promise<IssueInfo>;
  listOpenIssuesWithLabel(label: string): Promise<IssueInfo[]>;
  /** Who last added the label to the issue, and when; null if the events do not say. */
  findLabelEvent(issueNumber: number, label: string): Promise<LabelEvent | null>;
  /** The issues GitHub records as blocking this one ("blocked by"), open or closed; none where GitHub will not say. */
  listBlockers(issueNumber: number): Promise<Array<{ number: number; open: boolean }>>;
  addLabels(issueNumber: number, labels: string[]): Promise<void>;
  /** Removing a label the issue does not have is not an error. */
  removeLabel(issueNumber: number, label: string): Promise<void>;

  listComments(issueNumber: number): Promise<IssueComment[]>;
  createComment(issueNumber: number, body: string): Promise<IssueComment>;
  updateComment(commentId: number, body: string): Promise<void>;

  getPull(pullNumber: number): Promise<PullInfo & { open: boolean }>;
  /** The inline comments of one review, in order. */
  listReviewComments(pullNumber: number, reviewId: number): Promise<ReviewComment[]>;
  listOpenPulls(): Promise<PullInfo[]>;
  /** The open PR from this repository whose agent branch works on the issue, whatever its slug. */
  findOpenAgentPull(issueNumber: number): Promise<PullInfo | null>;
  /** Opens a PR; `exists` when GitHub says a PR from this branch is already open. */
  createPull(pull: NewPull): Promise<PullInfo | 'exists'>;
  updatePull(pullNumber: number, changes: { title?: string; body?: string }): Promise<void>;

  createCheckRun(run: CheckRunReport): Promise<void>;

  /** Every review of the PR, oldest first, with its state as the REST API says it. */
  listReviews(pullNumber: number): Promise<Review[]>;
  /** The combined state of a commit's check runs (other than this app's) and commit statuses, and which failed. */
  getChecks(sha: string): Promise<ChecksReport>;
  /** Each check run (other than this app's) and commit status of a commit or a branch's tip: the latest of each name. */
  listChecks(ref: string): Promise<CheckState[]>;
  /** The checks a branch requires (its rulesets' and its protection's); empty where none are configured or GitHub does not say. */
  listRequiredChecks(branch: string): Promise<string[]>;
  /** A check run's first `max` annotations. */
  listAnnotations(checkRunId: number, max: number): Promise<CheckAnnotation[]>;
  /**
   * The last `maxBytes` of a GitHub Actions job's log (a check run's id is its job's id); null where
   * GitHub keeps none or the app may not read it (404, 403, 410). Never holds more than the tail in memory.
   */
  readJobLogTail(jobId: number, maxBytes: number): Promise<string | null>;
  /** Merges only if the head is still `sha`; `moved` when GitHub says it is not (405/409). */
  mergePull(pullNumber: number, options: { sha: string; method: 'merge' | 'squash' | 'rebase' }): Promise<MergeOutcome>;
  deleteBranch(branch: string): Promise<void>;
  /**
   * Hands the PR to GitHub's merge queue (for a base that takes merges only through it), only if
   * its head is still `headSha`; `jump` puts it at the front.
   */
  enqueuePull(pullNumber: number, options: { headSha: string; jump: boolean }): Promise<EnqueueOutcome>;
}

export type EnqueueOutcome = { kind: 'queued'; position: number | null } | { kind: 'refused'; message: string };

export interface Review {
  id: number;
  author: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  commitId: string;
  submittedAt: number;
}

export interface ChecksReport {
  state: 'success' | 'pending' | 'failure' | 'none';
  /** The names of the check runs and status contexts that failed. */
  failed: string[];
}

/** One check of a commit, as the PR's checks box shows it. */
export interface CheckState {
  name: string;
  /** A check run (with its id, and whether GitHub Actions ran it, so that its job has a log) or a commit status. */
  source: { kind: 'check-run'; id: number; actions: boolean } | { kind: 'status' };
  state: 'pending' | 'success' | 'failure';
  /** The check run's output title and summary, or the status's description. */
  title: string;
  summary: string;
  /** How many annotations the check run has. */
  annotations: number;
}

export interface CheckAnnotation {
  path: string;
  line: number;
  /** `failure`, `warning` or `notice` */
  level: string;
  title: string;
  message: string;
  details: string;
}

export type MergeOutcome = { kind: 'merged'; sha: string } | { kind: 'moved' | 'not-mergeable'; message: string };

export type Permission = 'admin' | 'write' | 'read' | 'none';

export interface Actor {
  login: string;
  id: number;
}

export interface IssueComment {
  id: number;
  body: string;
  author: string;
  authorIsBot: boolean;
  /** The GitHub App that wrote the comment, if one did. */
  viaAppId?: number | undefined;
}

export interface RepositoryInfo {
  defaultBranch: string;
  cloneUrl: string;
}

export interface IssueInfo {
  number: number;
  title: string;
  body: string;
  open: boolean;
  labels: string[];
  /** How many comments the issue has; lets a job skip listing them when there are none. */
  comments: number;
  isPullRequest: boolean;
  /** How many open issues GitHub records as blocking this one; absent where GitHub does not say. */
  openBlockers?: number;
}

export interface LabelEvent {
  actor: Actor;
  at: number;
}

export interface PullInfo {
  number: number;
  url: string;
  headRef: string;
  headSha: string;
  baseRef: string;
  /** The head is in another repository (a fork): never run or merged. */
  fromFork: boolean;
  draft: boolean;
  labels: string[];
  /** When the PR was opened, where GitHub says (ms since the epoch). */
  createdAt?: number;
}

export interface ReviewComment {
  path: string;
  /** The line in the file the comment is on (the new side), when GitHub gives one. */
  line: number | null;
  diffHunk: string;
  body: string;
  author: string;
}

export interface NewPull {
  title: string;
  body: string;
  head: string;
  base: string;
}

export interface CheckRunReport {
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled' | 'action_required';
  title: string;
  summary: string;
  text?: string;
  /** Where the check's "Details" link leads: the run's page on the dashboard. */
  detailsUrl?: string;
}

/** A config file that exists but cannot be read as YAML or JSON; its message says where and why. */
export class UnreadableConfigError extends Error {
  override name = 'UnreadableConfigError';
}

export function isWriter(permission: Permission): boolean {
  return permission === 'admin' || permission === 'write';
}
