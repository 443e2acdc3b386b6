import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Probot } from 'probot';
import type { Agent } from '../../src/agents/agent.js';
import type { Services } from '../../src/services.js';
import { FakeGitHub, type FakeGitHubOptions } from './fake-github.js';
import { createGitSandbox, type GitSandbox } from './git-sandbox.js';
import { issueCommentCreated, issuesEvent, reviewSubmitted } from './payloads.js';
import { createTestProbot, testSettings } from './test-probot.js';

export interface MapHarness {
  sandbox: GitSandbox;
  github: FakeGitHub;
  probot: Probot;
  services: Services;
  workDir: string;
  /** One reconcile pass (with `background: true`). */
  reconcile(): Promise<void>;
  /** Adds an issue, labels it as `by` would on GitHub, and delivers the webhook. */
  labelIssue(number: number, title: string, options?: { by?: string; label?: string; body?: string }): Promise<void>;
  unlabelIssue(number: number, options?: { by?: string; label?: string }): Promise<void>;
  comment(number: number, body: string, by?: string): Promise<void>;
  /** A comment on a PR (GitHub delivers it as an issue comment on the PR's number). */
  commentOnPull(number: number, body: string, by?: string): Promise<void>;
  review(number: number, options: { id: number; state: 'changes_requested' | 'approved' | 'commented'; body: string; by?: string;
    comments?: Array<{ path: string; line: number; diff_hunk: string; body: string }> }): Promise<void>;
  closeIssue(number: number, by?: string): Promise<void>;
  deliver(name: string, payload: unknown): Promise<void>;
  /** Waits until no job is queued or running. */
  idle(): Promise<void>;
  /** Folders under the work directory's worktrees/ that still exist. */
  leftoverWorktrees(): Promise<string[]>;
  /** The worktrees kept for reuse, each with what `git status` says is left in it and its HEAD. */
  idleWorktrees(): Promise<Array<{ dir: string; leftFiles: string; head: string }>>;
  remoteSha(branch: string): Promise<string>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  agent: Agent;
  maxAgents?: number;
  config?: string | null;
  github?: FakeGitHubOptions;
  workDir?: string;
  /** Start-up clean-up and reconcile, as in production (needs the installation listing mocked). */
  background?: boolean;
}

/** The whole app on a test Probot: real git against a bare remote, GitHub on the stateful fake. */
export async function startMapHarness(options: HarnessOptions): Promise<MapHarness> {
  const sandbox = await createGitSandbox();
  const remoteSha = (branch: string) => sandbox.git(sandbox.remoteUrl, 'rev-parse', `refs/heads/${branch}`);
  const github = new FakeGitHub({
    cloneUrl: sandbox.remoteUrl,
    permissions: { maintainer: 'write', admin: 'admin', 'drive-by': 'triage' },
    config: options.config ?? null,
    resolveHeadSha: remoteSha,
    ...options.github,
  }).start();
  const workDir = options.workDir ?? path.join(sandbox.root, 'work');
  let services!: Services;
  let background: { pass(): Promise<void>; stop(): void } | undefined;
  const probot = await createTestProbot(testSettings({ workDir, maxAgents: options.maxAgents ?? 4 }), {
    createAgent: () => options.agent,
    gitEnv: sandbox.gitEnv,
    background: options.background ?? false,
    onServices: (s, b) => {
      services = s;
      background = b;
    },
  });
  let deliveries = 0;
  let commentIds = 700_000;
  const deliver = (name: string, payload: unknown) =>
    probot.receive({ id: `delivery-${++deliveries}`, name, payload } as never);
  const repository = { cloneUrl: sandbox.remoteUrl, defaultBranch: 'main' };
  const issuePayload = (n: number) => {
    const issue = github.issue(n);
    return { number: n, title: issue.title, body: issue.body, labels: [...issue.labels], comments: issue.comments.length, state: issue.state };
  };

  return {
    sandbox,
    github,
    probot,
    services,
    workDir,
    deliver,
    async reconcile() {
      if (!background) throw new Error('start the harness with background: true');
      await background.pass();
    },
    async labelIssue(number, title, { by = 'maintainer', label = 'agent', body = `Please fix: ${title}` } = {}) {
      if (!github.issues.has(number)) github.addIssue({ number, title, body });
      github.label(number, label, by);
      await deliver('issues', issuesEvent('labeled', { issue: issuePayload(number), label, sender: github.user(by), repository }));
    },
    async unlabelIssue(number, { by = 'maintainer', label = 'agent' } = {}) {
      github.unlabel(number, label);
      await deliver('issues', issuesEvent('unlabeled', { issue: issuePayload(number), label, sender: github.user(by), repository }));
    },
    async closeIssue(number, by = 'maintainer') {
      github.issue(number).state = 'closed';
      await deliver('issues', issuesEvent('closed', { issue: issuePayload(number), sender: github.user(by), repository }));
    },
    async commentOnPull(number, body, by = 'maintainer') {
      const pull = github.pull(number);
      pull.comments.push({ id: Date.now(), body, user: { login: by, type: 'User' }, created_at: '', updated_at: '' });
      const payload = issueCommentCreated({ body, author: by, issueNumber: number, onPullRequest: true });
      payload.comment.id = ++commentIds;
      payload.issue.title = pull.title;
      payload.comment.user.id = github.user(by).id;
      payload.repository.clone_url = sandbox.remoteUrl;
      payload.repository.default_branch = 'main';
      await deliver('issue_comment', payload);
    },
    async review(number, { id, state, body, by = 'maintainer', comments = [] }) {
      const pull = github.pull(number);
      pull.reviewComments = { ...pull.reviewComments, [id]: comments.map((c) => ({ ...c, user: by })) };
      await deliver('pull_request_review', reviewSubmitted({
        pull: { number, head: pull.head, base: pull.base, headSha: pull.headSha }, reviewId: id, state, body,
        reviewer: github.user(by), repository,
      }));
    },
    async comment(number, body, by = 'maintainer') {
      github.comment(number, body, by);
      const payload = issueCommentCreated({ body, author: by, issueNumber: number });
      payload.comment.id = ++commentIds;
      Object.assign(payload.issue, issuePayload(number), { labels: github.issue(number).labels.map((name) => ({ name })) });
      payload.comment.user.id = github.user(by).id;
      payload.repository.clone_url = sandbox.remoteUrl;
      payload.repository.default_branch = 'main';
      await deliver('issue_comment', payload);
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
      background?.stop();
      services.map.stop();
      github.stop();
      await sandbox.cleanup();
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
