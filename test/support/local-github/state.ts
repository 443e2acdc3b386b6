/**
 * What the local GitHub remembers: users, repositories with their issues, PRs, comments, label events,
 * reviews, check runs and statuses. Plain data; the routes change it and the renderers show it.
 */

export type Permission = 'admin' | 'write' | 'read' | 'none';

export interface User {
  id: number;
  login: string;
  type: 'User' | 'Bot';
}

export interface Issue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  user: User;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Set when the number belongs to a PR (GitHub numbers issues and PRs from one sequence). */
  pull?: Pull;
  /** The issues recorded as blocking this one (GitHub's issue dependencies). */
  blockedBy?: number[];
}

export interface Pull {
  number: number;
  head: string;
  base: string;
  headSha: string;
  /** The base's sha when the PR was opened or last merged. */
  baseSha: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  mergedBy: User | null;
  /** The owner of the fork the head branch is in; unset: the head is in the repository itself. */
  fork?: string;
}

export interface Comment {
  id: number;
  issueNumber: number;
  body: string;
  user: User;
  /** Written with an installation token: GitHub shows the app in `performed_via_github_app`. */
  viaApp: boolean;
  /** Written by another GitHub App than this one (its bot pasted something, say) */
  otherApp?: { id: number; slug: string };
  createdAt: string;
  updatedAt: string;
}

export interface IssueEvent {
  id: number;
  issueNumber: number;
  event: 'labeled' | 'unlabeled' | 'closed' | 'reopened' | 'merged';
  label?: string;
  actor: User;
  createdAt: string;
}

export interface Review {
  id: number;
  pullNumber: number;
  user: User;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
  body: string;
  commitId: string;
  submittedAt: string;
  comments: Array<{ path: string; line: number; diffHunk: string; body: string }>;
}

export interface CheckRun {
  id: number;
  headSha: string;
  name: string;
  status: string;
  conclusion: string | null;
  title: string;
  summary: string;
  detailsUrl: string | null;
  startedAt: string;
  completedAt: string | null;
  /** Run by GitHub Actions (a job, with a log) rather than by this app. */
  actions?: boolean;
  annotations?: Annotation[];
  /** The Actions job's log. */
  log?: string;
}

export interface Annotation {
  path: string;
  line: number;
  level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CommitStatus {
  id: number;
  sha: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  context: string;
  createdAt: string;
}

export interface Repository {
  id: number;
  owner: User;
  name: string;
  defaultBranch: string;
  /** The bare repository on disk that git clients reach over HTTP. */
  gitDir: string;
  issues: Map<number, Issue>;
  comments: Map<number, Comment>;
  events: IssueEvent[];
  reviews: Review[];
  checkRuns: CheckRun[];
  statuses: CommitStatus[];
  permissions: Map<string, Permission>;
  /** The checks each branch requires, by its rulesets and by its classic protection. */
  requiredChecks?: { rules: Map<string, string[]>; protection: Map<string, string[]> };
}

export class GitHubState {
  readonly users = new Map<string, User>();
  readonly repositories = new Map<string, Repository>();
  #ids = 1000;
  #clock: () => Date;

  constructor(clock: () => Date = () => new Date()) {
    this.#clock = clock;
  }

  nextId(): number {
    return ++this.#ids;
  }

  now(): string {
    return this.#clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  user(login: string, type: User['type'] = 'User'): User {
    let user = this.users.get(login);
    if (!user) {
      user = { id: this.nextId(), login, type };
      this.users.set(login, user);
    }
    return user;
  }

  repository(fullName: string): Repository | undefined {
    return this.repositories.get(fullName.toLowerCase());
  }

  /** A repository nobody sees yet: `addRepository` makes it visible once it has its first commit. */
  newRepository(owner: string, name: string, gitDir: string, defaultBranch: string): Repository {
    return {
      id: this.nextId(), owner: this.user(owner), name, defaultBranch, gitDir,
      issues: new Map(), comments: new Map(), events: [], reviews: [], checkRuns: [], statuses: [], permissions: new Map(),
    };
  }

  addRepository(repository: Repository): Repository {
    this.repositories.set(`${repository.owner.login}/${repository.name}`.toLowerCase(), repository);
    return repository;
  }

  /** One sequence for issues and PRs, as GitHub's; a test may have opened some at chosen numbers. */
  nextNumber(repository: Repository): number {
    return Math.max(0, ...repository.issues.keys()) + 1;
  }

  commentsOf(repository: Repository, issueNumber: number): Comment[] {
    return [...repository.comments.values()].filter((c) => c.issueNumber === issueNumber).sort((a, b) => a.id - b.id);
  }

  pulls(repository: Repository): Issue[] {
    return [...repository.issues.values()].filter((i) => i.pull !== undefined);
  }

  addLabel(repository: Repository, issue: Issue, label: string, actor: User): boolean {
    if (issue.labels.includes(label)) return false;
    issue.labels.push(label);
    issue.updatedAt = this.now();
    repository.events.push({ id: this.nextId(), issueNumber: issue.number, event: 'labeled', label, actor, createdAt: this.now() });
    return true;
  }

  removeLabel(repository: Repository, issue: Issue, label: string, actor: User): boolean {
    if (!issue.labels.includes(label)) return false;
    issue.labels = issue.labels.filter((l) => l !== label);
    issue.updatedAt = this.now();
    repository.events.push({ id: this.nextId(), issueNumber: issue.number, event: 'unlabeled', label, actor, createdAt: this.now() });
    return true;
  }

  close(repository: Repository, issue: Issue, actor: User): void {
    if (issue.state === 'closed') return;
    issue.state = 'closed';
    issue.closedAt = this.now();
    issue.updatedAt = issue.closedAt;
    repository.events.push({ id: this.nextId(), issueNumber: issue.number, event: 'closed', actor, createdAt: this.now() });
  }
}
