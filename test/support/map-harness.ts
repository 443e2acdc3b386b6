import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Probot } from 'probot';
import type { Agent } from '../../src/agents/agent.js';
import type { Settings } from '../../src/settings/load-settings.js';
import type { Services } from '../../src/services.js';
import { createGitSandbox, type GitSandbox } from './git-sandbox.js';
import { LocalGitHub } from './local-github/local-github.js';
import type { Comment, Issue, Permission } from './local-github/state.js';
import type { Delivery } from './local-github/webhooks.js';
import { OWNER, REPO } from './payloads.js';
import { createTestProbot, testSettings } from './test-probot.js';

/** The repository the harness serves, as `owner/name`. */
export const FULL_NAME = `${OWNER}/${REPO}`;

/** A PR on the local GitHub, read live from its state (so a test may hold one and look again later). */
export class PullView {
  constructor(private readonly github: LocalGitHub, readonly number: number) {}

  private get issue(): Issue {
    return this.github.issue(FULL_NAME, this.number);
  }

  get title(): string {
    return this.issue.title;
  }

  get body(): string {
    return this.issue.body;
  }

  get state(): 'open' | 'closed' {
    return this.issue.state;
  }

  get labels(): string[] {
    return this.issue.labels;
  }

  /** The head branch */
  get head(): string {
    return this.issue.pull!.head;
  }

  /** The base branch */
  get base(): string {
    return this.issue.pull!.base;
  }

  get headSha(): string {
    return this.issue.pull!.headSha;
  }

  get merged(): boolean {
    return this.issue.pull!.merged;
  }

  get html_url(): string {
    return this.github.htmlUrl(FULL_NAME, this.number);
  }

  get comments(): Comment[] {
    return this.github.comments(FULL_NAME, this.number);
  }
}

export interface ReviewOptions {
  state: 'changes_requested' | 'approved' | 'commented';
  body: string;
  by?: string;
  comments?: Array<{ path: string; line: number; diff_hunk: string; body: string }>;
  /** When it was submitted (default now) */
  at?: Date;
}

export interface MapHarness {
  sandbox: GitSandbox;
  github: LocalGitHub;
  probot: Probot;
  services: Services;
  workDir: string;
  /** One reconcile pass (with `background: true`). */
  reconcile(): Promise<void>;
  /** Opens the issue (at this number) unless it exists, labels it as `by` does on GitHub, and delivers the webhooks. */
  labelIssue(number: number, title: string, options?: { by?: string; label?: string; body?: string }): Promise<void>;
  unlabelIssue(number: number, options?: { by?: string; label?: string }): Promise<void>;
  /** A comment on an issue or a PR, delivered. */
  comment(number: number, body: string, by?: string): Promise<void>;
  /** A review of a PR, recorded on GitHub and delivered; returns the deliveries, for a test that delivers them again. */
  review(number: number, options: ReviewOptions): Promise<Delivery[]>;
  /** A review recorded on GitHub whose webhook the app does not get (e.g. an approval given before the test's own). */
  recordReview(number: number, options: ReviewOptions): void;
  closeIssue(number: number, by?: string): Promise<void>;
  /** A person's commit onto a branch (a new one starts from main), pushed and delivered; returns the new sha. */
  push(branch: string, files: Record<string, string | null>, message: string): Promise<string>;
  /** Runs what someone does on the local GitHub and returns the webhooks it sent, without delivering them. */
  caused(action: () => void): Delivery[];
  /** Delivers webhooks to the app, one after the other, each as a new delivery. */
  deliver(...deliveries: Delivery[]): Promise<void>;
  pulls(): PullView[];
  pull(number: number): PullView;
  issue(number: number): Issue;
  comments(number: number): Comment[];
  /** The successful merges, in order, with their method. */
  merges(): Array<{ number: number; method: string }>;
  /** The branches deleted through the API. */
  deletedBranches(): string[];
  /** Starts the app again on the same GitHub and work directory (the process before it is gone), with start-up and reconcile. */
  startAgain(agent: Agent): Promise<{ services: Services; background: { pass(): Promise<void>; stop(): void } }>;
  /** Waits until no job is queued or running. */
  idle(): Promise<void>;
  /** Folders under the work directory's worktrees/ that still exist. */
  leftoverWorktrees(): Promise<string[]>;
  /** The worktrees kept for reuse, each with what `git status` says is left in it and its HEAD. */
  idleWorktrees(): Promise<Array<{ dir: string; leftFiles: string; head: string }>>;
  remoteSha(branch: string): Promise<string>;
  /** Stops the app and the GitHub; throws if the app made a call GitHub's description does not allow. */
  stop(): Promise<void>;
}

export interface HarnessOptions {
  agent: Agent;
  maxAgents?: number;
  /** The repository's `.github/agent-mapreduce.yml`, committed on main; none by default */
  config?: string;
  workDir?: string;
  /** Start-up clean-up and reconcile, as in production (the first pass starts at once). */
  background?: boolean;
  /** Settings of the app beyond the harness's own (work folder, agents). */
  settings?: Partial<Settings>;
  /** What is on GitHub before the app starts (its webhooks never reach the app). */
  before?: (github: LocalGitHub) => Promise<void> | void;
}

const PERMISSIONS: Record<string, Permission> = { maintainer: 'write', admin: 'admin', 'drive-by': 'read' };
const REVIEW_STATES = { changes_requested: 'CHANGES_REQUESTED', approved: 'APPROVED', commented: 'COMMENTED' } as const;

/**
 * The whole app on an in-process Probot pointed at the local GitHub: real git over HTTP, every API
 * call checked against GitHub's description. The app gets the webhooks of what the test does through
 * the harness (label, comment, review ...); what a test does on `github` directly is a webhook lost.
 */
export async function startMapHarness(options: HarnessOptions): Promise<MapHarness> {
  const github = await LocalGitHub.start();
  const repository = await github.createRepository(FULL_NAME, {
    'README.md': '# Sandbox\n', 'src/app.txt': 'hello\n', ...(options.config ? { '.github/agent-mapreduce.yml': options.config } : {}),
  });
  for (const [login, permission] of Object.entries(PERMISSIONS)) github.grant(FULL_NAME, login, permission);
  const gitSandbox = await createGitSandbox({ remote: repository.gitDir });
  // through the local GitHub, so that a PR's head follows its branch
  const sandbox: GitSandbox = { ...gitSandbox, commitToRemote: (branch, files, message) => github.commit(FULL_NAME, branch, files, message) };
  const remoteSha = (branch: string) => sandbox.git(sandbox.remoteUrl, 'rev-parse', `refs/heads/${branch}`);
  await options.before?.(github);
  const workDir = options.workDir ?? path.join(sandbox.root, 'work');
  const host = { baseUrl: `${github.url}/api/v3`, privateKey: github.privateKey };
  const startApp = async (agent: Agent, background: boolean) => {
    let services!: Services;
    let passes: { pass(): Promise<void>; stop(): void } | undefined;
    const probot = await createTestProbot(testSettings({ workDir, maxAgents: options.maxAgents ?? 4, ...options.settings }), {
      createAgent: () => agent,
      gitEnv: sandbox.gitEnv,
      background,
      onServices: (s, b) => {
        services = s;
        passes = b;
      },
    }, host);
    return { probot, services, background: passes };
  };
  const app = await startApp(options.agent, options.background ?? false);
  const { probot, services } = app;
  const apps = [app];

  let deliveries = 0;
  const deliver = async (...sent: Delivery[]) => {
    for (const { name, payload } of sent) await probot.receive({ id: `delivery-${++deliveries}`, name, payload } as never);
  };
  const caused = (action: () => void) => {
    const from = github.webhooks.deliveries.length;
    action();
    return github.webhooks.deliveries.slice(from);
  };
  const act = (action: () => void) => deliver(...caused(action));
  const reviewOf = (number: number, { state, body, by = 'maintainer', comments = [], at }: ReviewOptions) => () => {
    github.review(FULL_NAME, number, {
      by, state: REVIEW_STATES[state], body, comments: comments.map((c) => ({ path: c.path, line: c.line, diffHunk: c.diff_hunk, body: c.body })),
      ...(at ? { at } : {}),
    });
  };
  const pullNumber = (path: string) => Number(/\/pulls\/(\d+)\//.exec(path)?.[1]);

  return {
    sandbox,
    github,
    probot,
    services,
    workDir,
    caused,
    deliver,
    async reconcile() {
      if (!app.background) throw new Error('start the harness with background: true');
      await app.background.pass();
    },
    labelIssue: (number, title, { by = 'maintainer', label = 'agent', body = `Please fix: ${title}` } = {}) => act(() => {
      if (!github.repo(FULL_NAME).issues.has(number)) github.openIssue(FULL_NAME, { number, title, body, by: 'reporter' });
      github.label(FULL_NAME, number, label, by);
    }),
    unlabelIssue: (number, { by = 'maintainer', label = 'agent' } = {}) => act(() => github.unlabel(FULL_NAME, number, label, by)),
    closeIssue: (number, by = 'maintainer') => act(() => github.closeIssue(FULL_NAME, number, by)),
    comment: (number, body, by = 'maintainer') => act(() => {
      github.comment(FULL_NAME, number, body, by);
    }),
    async review(number, review) {
      const sent = caused(reviewOf(number, review));
      await deliver(...sent);
      return sent;
    },
    recordReview(number, review) {
      reviewOf(number, review)();
    },
    async push(branch, files, message) {
      const from = github.webhooks.deliveries.length;
      const sha = await github.commit(FULL_NAME, branch, files, message);
      await deliver(...github.webhooks.deliveries.slice(from));
      return sha;
    },
    pulls: () => github.state.pulls(github.repo(FULL_NAME)).map((issue) => new PullView(github, issue.number)),
    pull: (number) => {
      if (!github.issue(FULL_NAME, number).pull) throw new Error(`#${number} is not a PR`);
      return new PullView(github, number);
    },
    issue: (number) => github.issue(FULL_NAME, number),
    comments: (number) => github.comments(FULL_NAME, number),
    merges: () => github.callsOf('pulls/merge').filter((c) => c.status === 200)
      .map((c) => ({ number: pullNumber(c.path), method: String(c.body?.merge_method ?? 'merge') })),
    deletedBranches: () => github.callsOf('git/delete-ref').filter((c) => c.status === 204)
      .map((c) => decodeURIComponent(c.path).replace(/^.*?\/git\/refs\/heads\//, '')),
    async startAgain(agent) {
      const again = await startApp(agent, true);
      apps.push(again);
      return { services: again.services, background: again.background! };
    },
    async idle() {
      await services.scheduler.idle();
      await services.reduce.idle();
      await services.scheduler.idle();
    },
    leftoverWorktrees,
    async idleWorktrees() {
      const found = [];
      for (const rel of await leftoverWorktrees()) {
        const dir = path.join(workDir, 'worktrees', rel);
        const leftFiles = await sandbox.git(dir, 'status', '--porcelain', '--ignored', '--untracked-files=all');
        const head = await sandbox.git(dir, 'rev-parse', '--abbrev-ref', 'HEAD');
        found.push({ dir: rel, leftFiles, head });
      }
      return found;
    },
    remoteSha,
    async stop() {
      for (const started of apps) {
        started.background?.stop();
        started.services.map.stop();
      }
      await github.close();
      await sandbox.cleanup();
      if (github.problems.length > 0) throw new Error(`calls GitHub's description does not allow:\n${github.problems.join('\n')}`);
    },
  };

  async function leftoverWorktrees(): Promise<string[]> {
    const root = path.join(workDir, 'worktrees');
    if (!existsSync(root)) return [];
    const found: string[] = [];
    for (const owner of await readdir(root)) {
      for (const repo of await readdir(path.join(root, owner))) {
        for (const name of await readdir(path.join(root, owner, repo))) found.push(`${owner}/${repo}/${name}`);
      }
    }
    return found;
  }
}
