import type {
  CheckAnnotation, CheckRunReport, CheckState, ChecksReport, EnqueueOutcome, GitHub, IssueComment, IssueInfo, LabelEvent, MergeOutcome, NewPull, Permission, PullInfo, Review, ReviewComment,
} from '../../src/github/port.js';
import { issueOfBranch } from '../../src/names.js';

/** A pull request as the memory keeps it. */
export interface MemoryPull extends PullInfo {
  open: boolean;
  title: string;
  body: string;
  reviews: Review[];
  merged?: string;
}

/**
 * The `GitHub` port in memory, for pipeline-level tests that need no HTTP: issues, comments,
 * labels, PRs, reviews, check runs and merges, with every write recorded in `writes`. A merge is
 * refused (`moved`) when the head is not the one asked for, as GitHub's SHA guard does; `headOf`
 * can read the head from a real git remote, and `onMerge` carry the merge out there.
 */
export class MemoryGitHub implements GitHub {
  readonly issues = new Map<number, IssueInfo & { comments: number }>();
  readonly comments = new Map<number, IssueComment[]>();
  readonly pulls = new Map<number, MemoryPull>();
  readonly checkRuns: CheckRunReport[] = [];
  readonly deletedBranches: string[] = [];
  /** Each write, as `verb target`, in order: what a person would see happen on GitHub. */
  readonly writes: string[] = [];
  permissions = new Map<string, Permission>();
  checks = new Map<string, 'success' | 'pending' | 'failure'>();
  /** The names of the failed checks of a commit whose `checks` say failure (default `ci`). */
  failedChecks = new Map<string, string[]>();
  /** Each check of a commit or branch, in detail (`listChecks`). */
  checkStates = new Map<string, CheckState[]>();
  /** The checks each branch requires. */
  requiredChecks = new Map<string, string[]>();
  /** Annotations and job logs, by check run id. */
  annotations = new Map<number, CheckAnnotation[]>();
  jobLogs = new Map<number, string>();
  configLayers: Array<Record<string, unknown>> = [];
  onMerge: ((pull: MemoryPull) => Promise<string>) | undefined;
  /** Carries a branch deletion out on a real git remote. */
  onDeleteBranch: ((branch: string) => Promise<unknown>) | undefined;
  /** Where the PR's branch is now, when something outside (a git push) moves it; default the recorded head. */
  headOf: ((pull: MemoryPull) => Promise<string>) | undefined;
  #nextId = 1;

  readonly installationId = 1;

  constructor(readonly owner: string, readonly repo: string, private readonly appId = 42) {}

  async readConfigLayers(): Promise<Array<Record<string, unknown>>> {
    return this.configLayers;
  }

  async getPermission(login: string): Promise<Permission> {
    return this.permissions.get(login) ?? 'none';
  }

  async withGitToken<T>(_access: 'read' | 'write', use: (token: string) => Promise<T>): Promise<T> {
    return use('');
  }

  async branchHeads(): Promise<Map<string, string>> {
    // no git server behind it: callers fetch instead
    throw new Error('the in-memory GitHub keeps no branches');
  }

  async getUserId(login: string): Promise<number> {
    return [...login].reduce((sum, c) => sum + c.charCodeAt(0), 1000);
  }

  async getIssue(issueNumber: number): Promise<IssueInfo> {
    const issue = this.issues.get(issueNumber);
    if (!issue) throw Object.assign(new Error('Not Found'), { status: 404 });
    return { ...issue, labels: [...issue.labels], comments: this.comments.get(issueNumber)?.length ?? 0 };
  }

  async listOpenIssuesWithLabel(label: string): Promise<IssueInfo[]> {
    return [...this.issues.values()].filter((i) => i.open && i.labels.includes(label));
  }

  async findLabelEvent(): Promise<LabelEvent | null> {
    return null;
  }

  async listBlockers(): Promise<Array<{ number: number; open: boolean }>> {
    return [];
  }

  async addLabels(issueNumber: number, labels: string[]): Promise<void> {
    this.writes.push(`label #${issueNumber} ${labels.join(',')}`);
    const target = this.issues.get(issueNumber) ?? this.pulls.get(issueNumber);
    for (const label of labels) if (target && !target.labels.includes(label)) target.labels.push(label);
  }

  async removeLabel(issueNumber: number, label: string): Promise<void> {
    const target = this.issues.get(issueNumber) ?? this.pulls.get(issueNumber);
    if (!target?.labels.includes(label)) return;
    this.writes.push(`unlabel #${issueNumber} ${label}`);
    target.labels.splice(target.labels.indexOf(label), 1);
  }

  async listComments(issueNumber: number): Promise<IssueComment[]> {
    return [...(this.comments.get(issueNumber) ?? [])];
  }

  async createComment(issueNumber: number, body: string): Promise<IssueComment> {
    this.writes.push(`comment #${issueNumber}`);
    const comment: IssueComment = { id: this.#nextId++, body, author: 'agent-mapreduce[bot]', authorIsBot: true, viaAppId: this.appId };
    this.comments.set(issueNumber, [...(this.comments.get(issueNumber) ?? []), comment]);
    return comment;
  }

  async updateComment(commentId: number, body: string): Promise<void> {
    for (const [issue, list] of this.comments) {
      const comment = list.find((c) => c.id === commentId);
      if (!comment) continue;
      this.writes.push(`edit comment #${issue}`);
      comment.body = body;
      return;
    }
    throw Object.assign(new Error('Not Found'), { status: 404 });
  }

  async getPull(pullNumber: number): Promise<PullInfo & { open: boolean }> {
    const pull = this.pulls.get(pullNumber);
    if (!pull) throw Object.assign(new Error('Not Found'), { status: 404 });
    return { ...pull, labels: [...pull.labels] };
  }

  async listReviewComments(): Promise<ReviewComment[]> {
    return [];
  }

  async listOpenPulls(): Promise<PullInfo[]> {
    return [...this.pulls.values()].filter((p) => p.open).map((p) => ({ ...p, labels: [...p.labels] }));
  }

  async findOpenAgentPull(issueNumber: number): Promise<PullInfo | null> {
    return (await this.listOpenPulls()).find((p) => !p.fromFork && issueOfBranch(p.headRef) === issueNumber) ?? null;
  }

  async createPull(pull: NewPull): Promise<PullInfo | 'exists'> {
    if ([...this.pulls.values()].some((p) => p.open && p.headRef === pull.head)) return 'exists';
    const number = this.#nextId++;
    this.writes.push(`open PR #${number}`);
    return this.addPull({ number, headRef: pull.head, headSha: '', baseRef: pull.base, title: pull.title, body: pull.body });
  }

  async updatePull(pullNumber: number, changes: { title?: string; body?: string }): Promise<void> {
    this.writes.push(`edit PR #${pullNumber}`);
    Object.assign(this.pulls.get(pullNumber)!, changes);
  }

  async createCheckRun(run: CheckRunReport): Promise<void> {
    this.writes.push(`check run ${run.name}`);
    this.checkRuns.push(run);
  }

  async listReviews(pullNumber: number): Promise<Review[]> {
    return [...(this.pulls.get(pullNumber)?.reviews ?? [])];
  }

  async getChecks(sha: string): Promise<ChecksReport> {
    const state = this.checks.get(sha) ?? 'none';
    return { state, failed: state === 'failure' ? this.failedChecks.get(sha) ?? ['ci'] : [] };
  }

  async listChecks(ref: string): Promise<CheckState[]> {
    return [...(this.checkStates.get(ref) ?? [])];
  }

  async listRequiredChecks(branch: string): Promise<string[]> {
    return [...(this.requiredChecks.get(branch) ?? [])];
  }

  async listAnnotations(checkRunId: number, max: number): Promise<CheckAnnotation[]> {
    return (this.annotations.get(checkRunId) ?? []).slice(0, max);
  }

  async readJobLogTail(jobId: number, maxBytes: number): Promise<string | null> {
    return this.jobLogs.get(jobId)?.slice(-maxBytes) ?? null;
  }

  async mergePull(pullNumber: number, options: { sha: string }): Promise<MergeOutcome> {
    const pull = this.pulls.get(pullNumber);
    if (!pull?.open) return { kind: 'not-mergeable', message: 'Pull Request is not mergeable' };
    if (this.headOf) pull.headSha = await this.headOf(pull);
    if (pull.headSha !== options.sha) return { kind: 'moved', message: 'Head branch was modified. Review and try the merge again.' };
    this.writes.push(`merge PR #${pullNumber}`);
    pull.merged = this.onMerge ? await this.onMerge(pull) : `merge-of-${pullNumber}`;
    pull.open = false;
    return { kind: 'merged', sha: pull.merged };
  }

  async enqueuePull(pullNumber: number, options: { headSha: string; jump: boolean }): Promise<EnqueueOutcome> {
    const pull = this.pulls.get(pullNumber);
    if (!pull?.open || pull.headSha !== options.headSha) return { kind: 'refused', message: 'Head sha does not match' };
    this.writes.push(`enqueue PR #${pullNumber}${options.jump ? ' (jump)' : ''}`);
    return { kind: 'queued', position: null };
  }

  async deleteBranch(branch: string): Promise<void> {
    this.writes.push(`delete ${branch}`);
    this.deletedBranches.push(branch);
    await this.onDeleteBranch?.(branch);
  }

  // --- what people do -----------------------------------------------------------------------

  addIssue(issue: Partial<IssueInfo> & { number: number; title: string }): void {
    this.issues.set(issue.number, { body: '', open: true, labels: [], comments: 0, isPullRequest: false, ...issue });
  }

  addPull(pull: Partial<MemoryPull> & { number: number; headRef: string; headSha: string }): MemoryPull {
    const full: MemoryPull = {
      url: `https://github.com/${this.owner}/${this.repo}/pull/${pull.number}`, baseRef: 'main', fromFork: false, draft: false, labels: [],
      open: true, title: '', body: '', reviews: [], ...pull,
    };
    this.pulls.set(full.number, full);
    return full;
  }

  review(pullNumber: number, review: { author: string; state: Review['state']; commitId?: string }): void {
    const pull = this.pulls.get(pullNumber)!;
    pull.reviews.push({ id: this.#nextId++, submittedAt: Date.now(), commitId: review.commitId ?? pull.headSha, ...review });
  }
}
