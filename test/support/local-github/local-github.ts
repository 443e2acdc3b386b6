/**
 * A local GitHub for tests and demos: the REST routes the app uses, with state, git remotes served from
 * bare repositories by `git http-backend`, and signed webhooks to the app. The app runs against it
 * unchanged as a GitHub Enterprise Server (`GHE_HOST=127.0.0.1:<port>`, `GHE_PROTOCOL=http`).
 *
 * Every call and every JSON answer is checked against GitHub's OpenAPI description; anything the
 * description does not allow is answered as GitHub would (404/422) and kept in `problems`, which a
 * test expects to be empty. Fault switches make the next calls of an operation fail like GitHub does.
 *
 *   const github = await LocalGitHub.start();
 *   await github.createRepository('octo-org/widgets', { 'README.md': '# Widgets\n' });
 *   github.grant('octo-org/widgets', 'maintainer', 'write');
 *   github.webhooks.url = `${appUrl}/api/github/webhooks`;
 *   const n = github.openIssue('octo-org/widgets', { title: 'Fix it', by: 'maintainer' });
 *   github.label('octo-org/widgets', n, 'agent', 'maintainer');
 */
import { createHash, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runGit } from '../../../src/git/run-git.js';
import { BareRepo } from './bare-repo.js';
import { faultReply, FaultSwitches } from './faults.js';
import type { SecondaryLimit } from './secondary-limit.js';
import { MergeQueues } from './merge-queue.js';
import { serveGit } from './git-http.js';
import { openApiValidator } from './openapi-validator.js';
import { Renderer } from './render.js';
import { createRoutes, type Call, type Handler, type Reply, type RouteContext } from './routes.js';
import { checkRoutes, jobLogAt, JOB_LOGS_PATH, requireChecks } from './check-routes.js';
import { GitHubState, type CheckRun, type CommitStatus, type Permission, type Repository, type Review, type User } from './state.js';
import { WebhookSender } from './webhooks.js';

export interface LocalGitHubOptions {
  appId?: number;
  appSlug?: string;
  installationId?: number;
  webhookSecret?: string;
}

export interface RecordedCall {
  /** 1-based, in arrival order */
  index: number;
  /** When it arrived (ms since the epoch) */
  at: number;
  method: string;
  /** The operation id in GitHub's OpenAPI description, e.g. `pulls/create`; the path if none matched */
  operation: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The parsed JSON body; undefined when there was none */
  body: any;
  status?: number;
}

/** Called for every API call before it is handled and after; a test can kill the app here. */
export type CallHook = (call: RecordedCall, phase: 'before' | 'after') => void | Promise<void>;

const APP_OPERATIONS = new Set(['apps/get-authenticated', 'apps/list-installations', 'apps/create-installation-access-token']);

interface TokenScope {
  expires: number;
  repositories: string[] | 'all';
  contents: 'read' | 'write';
}
const ZERO_SHA = '0'.repeat(40);

let appKeys: { privateKey: string; publicKey: string } | undefined;
/** The app's key pair, made once per test process: a 2048-bit key takes a while, and no test needs two. */
function appKeyPair(): { privateKey: string; publicKey: string } {
  if (!appKeys) {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    appKeys = {
      privateKey: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }
  return appKeys;
}

export class LocalGitHub {
  readonly state = new GitHubState();
  readonly faults = new FaultSwitches();
  /** GitHub's secondary limit on content-creating requests; off unless a test switches it on. */
  secondaryLimit: SecondaryLimit | undefined;
  /** Branches that take merges only through GitHub's merge queue, and what was queued. */
  readonly mergeQueues = new MergeQueues();
  readonly webhooks: WebhookSender;
  readonly calls: RecordedCall[] = [];
  /** Calls or answers GitHub's description does not allow; a test expects none. */
  readonly problems: string[] = [];
  readonly appId: number;
  readonly installationId: number;
  readonly webhookSecret: string;
  /** The app's private key (PEM), for Probot's PRIVATE_KEY */
  readonly privateKey: string;
  readonly bot: User;
  onCall: CallHook | undefined;
  /** Called after a push or merge moves a branch (not a deletion): the simulated CI starts here. */
  onBranchMoved: ((repository: Repository, branch: string, sha: string) => void) | undefined;

  readonly #publicKey: string;
  /** Live installation tokens: when each expires, and what it may do to repository contents. */
  readonly #tokens = new Map<string, TokenScope>();
  /** Every installation token issued, with the scope asked for (tests check that git tokens are narrowed). */
  readonly tokensIssued: Array<{ repositories: string[] | 'all'; contents: 'read' | 'write' }> = [];
  readonly #root: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #gitEnv: Record<string, string>;
  readonly #appSlug: string;
  #render!: Renderer;
  #routes!: Record<string, Handler>;
  #url = '';

  private constructor(root: string, options: LocalGitHubOptions) {
    this.#root = root;
    this.appId = options.appId ?? 4242;
    this.installationId = options.installationId ?? 1001;
    this.webhookSecret = options.webhookSecret ?? 'local-github-secret';
    this.webhooks = new WebhookSender(this.webhookSecret);
    const keys = appKeyPair();
    this.privateKey = keys.privateKey;
    this.#publicKey = keys.publicKey;
    const slug = options.appSlug ?? 'agent-mapreduce';
    this.bot = this.state.user(`${slug}[bot]`, 'Bot');
    this.#gitEnv = {
      HOME: root, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C', GIT_ALLOW_PROTOCOL: 'file',
      GIT_AUTHOR_NAME: 'Local Human', GIT_AUTHOR_EMAIL: 'human@example.com', GIT_COMMITTER_NAME: 'Local Human', GIT_COMMITTER_EMAIL: 'human@example.com',
    };
    this.#server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.problems.push(`local GitHub crashed on ${req.method} ${req.url}: ${String((err as Error)?.stack ?? err)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Server Error' }));
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#appSlug = slug;
  }

  static async start(options: LocalGitHubOptions = {}): Promise<LocalGitHub> {
    const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'local-github-')));
    const github = new LocalGitHub(root, options);
    await new Promise<void>((resolve) => github.#server.listen(0, '127.0.0.1', resolve));
    const { port } = github.#server.address() as AddressInfo;
    github.#url = `http://127.0.0.1:${port}`;
    const owner = github.state.user('local-org');
    github.#render = new Renderer(github.state, github.#url, { id: github.appId, slug: github.#appSlug, name: 'agent-mapreduce', owner });
    const routes: RouteContext = {
      state: github.state,
      render: github.#render,
      repo: (o, r) => github.state.repository(`${o}/${r}`),
      bare: (repository) => new BareRepo(repository.gitDir, github.#gitEnv),
      installationId: github.installationId,
      emit: (name, repository, sender, payload) => github.emit(name, repository, sender, payload),
      issueToken: (scope) => github.issueToken(scope),
      revokeToken: (token) => github.revokeToken(token),
      noteBranchMoves: (repository, moves, pusher) => github.noteBranchMoves(repository, moves, pusher),
      requiresMergeQueue: (repository, branch) => github.mergeQueues.requires(repository, branch),
    };
    github.#routes = { ...createRoutes(routes), ...checkRoutes(routes) };
    return github;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.#url;
  }

  /** For GHE_HOST: `127.0.0.1:<port>` */
  get host(): string {
    return new URL(this.#url).host;
  }

  /** The environment that points Probot at this GitHub as the given app. */
  appEnv(): Record<string, string> {
    return {
      APP_ID: String(this.appId), PRIVATE_KEY: this.privateKey, WEBHOOK_SECRET: this.webhookSecret, GHE_HOST: this.host, GHE_PROTOCOL: 'http',
    };
  }

  /** How many API calls were made (git traffic not counted). */
  get apiCalls(): number {
    return this.calls.length;
  }

  /** The calls of one operation of GitHub's description (e.g. `issues/update-comment`), in order. */
  callsOf(operation: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  // --- what people do on GitHub -------------------------------------------------------------

  /** A repository with one commit of `files` on its default branch; the app's installation sees it. */
  async createRepository(fullName: string, files: Record<string, string>, defaultBranch = 'main'): Promise<Repository> {
    const [owner = '', name = ''] = fullName.split('/');
    const gitDir = path.join(this.#root, 'repos', owner, `${name}.git`);
    await mkdir(path.dirname(gitDir), { recursive: true });
    await this.git(this.#root, 'init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, gitDir);
    // the repository appears with its first commit, so that the app never reads it empty (and caches "no config")
    const repository = this.state.newRepository(owner, name, gitDir, defaultBranch);
    await this.commitIn(repository, defaultBranch, files, 'Initial commit', { quiet: true });
    return this.state.addRepository(repository);
  }

  /**
   * Commits `files` (null deletes) onto a branch as a person pushing would; sends the push webhooks. A new
   * branch starts from the default branch; with `from`, the branch is rebuilt on that branch and force-pushed.
   */
  async commit(fullName: string, branch: string, files: Record<string, string | null>, message: string,
    options: { by?: string; quiet?: boolean; from?: string } = {}): Promise<string> {
    return this.commitIn(this.repo(fullName), branch, files, message, options);
  }

  private async commitIn(repository: Repository, branch: string, files: Record<string, string | null>, message: string,
    options: { by?: string; quiet?: boolean; from?: string }): Promise<string> {
    const scratch = await mkdtemp(path.join(this.#root, 'scratch-'));
    try {
      const bare = new BareRepo(repository.gitDir, this.#gitEnv);
      const before = await bare.sha(branch);
      await this.git(this.#root, 'clone', '--quiet', repository.gitDir, scratch);
      const start = options.from ?? (before ? undefined : (await bare.sha(repository.defaultBranch)) && repository.defaultBranch);
      if (start) await this.git(scratch, 'checkout', '--quiet', '-B', branch, `origin/${start}`);
      else if (before) await this.git(scratch, 'checkout', '--quiet', branch);
      else await this.git(scratch, 'checkout', '--quiet', '--orphan', branch);
      for (const [file, content] of Object.entries(files)) {
        const full = path.join(scratch, file);
        if (content === null) await rm(full, { force: true });
        else {
          await mkdir(path.dirname(full), { recursive: true });
          await writeFile(full, content);
        }
      }
      await this.git(scratch, 'add', '-A');
      await this.git(scratch, 'commit', '--quiet', '--allow-empty', '-m', message);
      await this.git(scratch, 'push', '--quiet', ...(options.from ? ['--force'] : []), 'origin', `HEAD:refs/heads/${branch}`);
      const after = (await bare.sha(branch))!;
      if (!options.quiet) this.noteBranchMoves(repository, [{ branch, before: before ?? ZERO_SHA, after }], this.state.user(options.by ?? 'maintainer'));
      return after;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  grant(fullName: string, login: string, permission: Permission): void {
    this.repo(fullName).permissions.set(login, permission);
    this.state.user(login);
  }

  /** `number`: a test's choice of a number no issue or PR has yet (GitHub would take the next one). */
  openIssue(fullName: string, { title, body = '', by = 'maintainer', number: wanted }: { title: string; body?: string; by?: string; number?: number }): number {
    const repository = this.repo(fullName);
    const now = this.state.now();
    if (wanted !== undefined && repository.issues.has(wanted)) throw new Error(`#${wanted} already exists in ${fullName}`);
    const number = wanted ?? this.state.nextNumber(repository);
    const issue = { number, title, body, state: 'open' as const, labels: [], user: this.state.user(by), createdAt: now, updatedAt: now, closedAt: null };
    repository.issues.set(number, issue);
    this.emit('issues', repository, issue.user, { action: 'opened', issue: this.#render.issue(repository, issue) });
    return number;
  }

  /** A PR someone opens from a branch of the repository (the branch must exist, as on GitHub). */
  /** `fork`: the head branch stands for a fork's, in that owner's account (its commits are in this repository, as GitHub keeps them). */
  async openPull(fullName: string, { title, head, base, body = '', by = 'maintainer', number: wanted, fork }: {
    title: string; head: string; base?: string; body?: string; by?: string; number?: number; fork?: string;
  }): Promise<number> {
    const repository = this.repo(fullName);
    const bare = new BareRepo(repository.gitDir, this.#gitEnv);
    const headSha = await bare.sha(head);
    const baseRef = base ?? repository.defaultBranch;
    const baseSha = await bare.sha(baseRef);
    if (!headSha || !baseSha) throw new Error(`no branch ${headSha ? baseRef : head} in ${fullName}`);
    const now = this.state.now();
    const user = this.state.user(by);
    if (wanted !== undefined && repository.issues.has(wanted)) throw new Error(`#${wanted} already exists in ${fullName}`);
    const number = wanted ?? this.state.nextNumber(repository);
    const issue = {
      number, title, body, state: 'open' as const, labels: [], user, createdAt: now, updatedAt: now, closedAt: null,
      pull: { number, head, base: baseRef, headSha, baseSha, draft: false, merged: false, mergedAt: null, mergeCommitSha: null, mergedBy: null, ...(fork ? { fork } : {}) },
    };
    repository.issues.set(number, issue);
    this.emit('pull_request', repository, user, { action: 'opened', number, pull_request: this.#render.pull(repository, issue) });
    return number;
  }

  label(fullName: string, number: number, label: string, by = 'maintainer'): void {
    const repository = this.repo(fullName);
    const issue = this.issue(fullName, number);
    const actor = this.state.user(by);
    if (!this.state.addLabel(repository, issue, label, actor)) return;
    this.emit('issues', repository, actor, { action: 'labeled', issue: this.#render.issue(repository, issue), label: this.#render.label(repository, label) });
  }

  /** Records on GitHub that `blocker` blocks issue `number` (issue dependencies), as a person does in the sidebar. */
  block(fullName: string, number: number, blocker: number, by = 'maintainer'): void {
    const repository = this.repo(fullName);
    const issue = this.issue(fullName, number);
    const blocking = this.issue(fullName, blocker);
    if (issue.blockedBy?.includes(blocker)) return;
    issue.blockedBy = [...(issue.blockedBy ?? []), blocker];
    this.emit('issue_dependencies', repository, this.state.user(by), {
      action: 'blocked_by_added', blocked_issue_id: this.#render.issue(repository, issue).id, blocking_issue_id: this.#render.issue(repository, blocking).id,
      blocked_issue: this.#render.issue(repository, issue), blocking_issue: this.#render.issue(repository, blocking),
    });
  }

  unlabel(fullName: string, number: number, label: string, by = 'maintainer'): void {
    const repository = this.repo(fullName);
    const issue = this.issue(fullName, number);
    const actor = this.state.user(by);
    if (!this.state.removeLabel(repository, issue, label, actor)) return;
    this.emit('issues', repository, actor, { action: 'unlabeled', issue: this.#render.issue(repository, issue), label: this.#render.label(repository, label) });
  }

  /** `otherApp`: the comment is another GitHub App's, written by its bot (`by`). */
  comment(fullName: string, number: number, body: string, by = 'maintainer', otherApp?: { id: number; slug: string }): number {
    const repository = this.repo(fullName);
    const issue = this.issue(fullName, number);
    const now = this.state.now();
    const user = this.state.user(by);
    // the app's bot writes only through the app's token: a comment of its is the app's (e.g. one from before a restart)
    const comment = {
      id: this.state.nextId(), issueNumber: number, body, user, viaApp: user === this.bot, ...(otherApp ? { otherApp } : {}), createdAt: now, updatedAt: now,
    };
    repository.comments.set(comment.id, comment);
    this.emit('issue_comment', repository, comment.user, {
      action: 'created', issue: this.#render.issue(repository, issue), comment: this.#render.comment(repository, comment),
    });
    return comment.id;
  }

  /** `at`: when it was submitted (default now), for tests of what happens in the order of approvals. */
  review(fullName: string, number: number, { by = 'maintainer', state, body = '', comments = [], at }: {
    by?: string; state: Review['state']; body?: string; comments?: Review['comments']; at?: Date;
  }): number {
    const repository = this.repo(fullName);
    const issue = this.issue(fullName, number);
    if (!issue.pull) throw new Error(`#${number} is not a pull request`);
    const review: Review = {
      id: this.state.nextId(), pullNumber: number, user: this.state.user(by), state, body, commitId: issue.pull.headSha,
      submittedAt: at ? at.toISOString().replace(/\.\d{3}Z$/, 'Z') : this.state.now(), comments,
    };
    repository.reviews.push(review);
    this.emit('pull_request_review', repository, review.user, {
      action: 'submitted', review: { ...this.#render.review(repository, review), state: state.toLowerCase() },
      pull_request: this.#render.pull(repository, issue),
    });
    return review.id;
  }

  /** A commit status another service (CI) sets on a commit; the latest per context counts. Sends the `status` webhook. */
  setStatus(fullName: string, sha: string, context: string, state: CommitStatus['state']): void {
    const repository = this.repo(fullName);
    const status = { id: this.state.nextId(), sha, context, state, createdAt: this.state.now() };
    repository.statuses.push(status);
    // the branches whose tip it is, as far as the PRs' heads say
    const branches = this.state.pulls(repository).filter((i) => i.pull!.headSha === sha).map((i) => ({ name: i.pull!.head, commit: { sha, url: '' } }));
    this.emit('status', repository, this.state.user('ci-service[bot]', 'Bot'), {
      id: status.id, sha, name: fullName, context, state, description: null, target_url: null, branches,
      created_at: status.createdAt, updated_at: status.createdAt,
    });
  }

  /** Makes `branch` require these checks, by a ruleset (`rules`) or by classic branch protection. */
  requireChecks(fullName: string, branch: string, names: string[], via: 'rules' | 'protection' = 'rules'): void {
    requireChecks(this.repo(fullName), branch, names, via);
  }

  closeIssue(fullName: string, number: number, by = 'maintainer'): void {
    const repository = this.repo(fullName);
    const issue = this.issue(fullName, number);
    this.state.close(repository, issue, this.state.user(by));
    this.emit('issues', repository, issue.user, { action: 'closed', issue: this.#render.issue(repository, issue) });
  }

  /** Sends a webhook from `sender` as GitHub would (for the simulated CI's check events). */
  sendEvent(name: string, repository: Repository, sender: User, payload: Record<string, unknown>): void {
    this.emit(name, repository, sender, payload);
  }

  /** How the API shows a check run. */
  renderCheckRun(repository: Repository, run: CheckRun): Record<string, unknown> {
    return this.#render.checkRun(repository, run);
  }

  // --- looking at the state ---------------------------------------------------------------------

  repo(fullName: string): Repository {
    const repository = this.state.repository(fullName);
    if (!repository) throw new Error(`no repository ${fullName}`);
    return repository;
  }

  issue(fullName: string, number: number) {
    const issue = this.repo(fullName).issues.get(number);
    if (!issue) throw new Error(`no issue ${fullName}#${number}`);
    return issue;
  }

  /** The PRs (open or not) whose head is an agent branch for the issue. */
  pullsFor(fullName: string, issueNumber: number) {
    return this.state.pulls(this.repo(fullName)).filter((i) => i.pull!.head.startsWith(`agent/issue-${issueNumber}-`) || i.pull!.head === `agent/issue-${issueNumber}`);
  }

  comments(fullName: string, number: number) {
    return this.state.commentsOf(this.repo(fullName), number);
  }

  /** The issue's or PR's page, as its `html_url` says. */
  htmlUrl(fullName: string, number: number): string {
    const repository = this.repo(fullName);
    return this.#render.issue(repository, this.issue(fullName, number)).html_url;
  }

  async readFile(fullName: string, ref: string, file: string): Promise<string | undefined> {
    return (await new BareRepo(this.repo(fullName).gitDir, this.#gitEnv).readFile(ref, file))?.toString();
  }

  async branches(fullName: string): Promise<Map<string, string>> {
    return new BareRepo(this.repo(fullName).gitDir, this.#gitEnv).branches();
  }

  async close(): Promise<void> {
    await this.webhooks.settled();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.#root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }

  // --- the server ------------------------------------------------------------------------------

  private emit(name: string, repository: Repository | undefined, sender: User, payload: Record<string, unknown>): void {
    this.webhooks.send(name, {
      ...payload,
      ...(repository ? { repository: this.#render.repository(repository) } : {}),
      sender: this.#render.user(sender),
      installation: { id: this.installationId, node_id: Buffer.from(`installation_${this.installationId}`).toString('base64') },
    });
  }

  private issueToken(scope: { repositories?: string[]; contents?: 'read' | 'write' } = {}): { token: string; expiresAt: string } {
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    const expires = Date.now() + 3_600_000;
    const issued = { repositories: scope.repositories ?? 'all' as const, contents: scope.contents ?? 'write' };
    this.#tokens.set(token, { expires, ...issued });
    this.tokensIssued.push(issued);
    return { token, expiresAt: new Date(expires).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** Tokens narrowed to some repositories (the app's git tokens) that are still live. */
  liveNarrowTokens(): number {
    return [...this.#tokens.entries()].filter(([token, scope]) => scope.repositories !== 'all' && this.tokenValid(token)).length;
  }

  private revokeToken(token: string): void {
    this.#tokens.delete(token);
  }

  private noteBranchMoves(repository: Repository, moves: Array<{ branch: string; before: string; after: string }>, pusher: User): void {
    for (const { branch, before, after } of moves) {
      this.emit('push', repository, pusher, {
        ref: `refs/heads/${branch}`, before, after, created: before === ZERO_SHA, deleted: after === ZERO_SHA, forced: false,
        base_ref: null, compare: `${this.#url}/${repository.owner.login}/${repository.name}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
        commits: [], head_commit: null, pusher: { name: pusher.login, email: null },
      });
      if (after === ZERO_SHA) continue;
      this.onBranchMoved?.(repository, branch, after);
      for (const issue of this.state.pulls(repository)) {
        if (issue.state !== 'open' || issue.pull!.head !== branch || issue.pull!.headSha === after) continue;
        issue.pull!.headSha = after;
        issue.updatedAt = this.state.now();
        this.emit('pull_request', repository, pusher, {
          action: 'synchronize', number: issue.number, before, after, pull_request: this.#render.pull(repository, issue),
        });
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#url);
    if (url.pathname.startsWith('/api/v3/')) return this.handleApi(req, res, url);
    if (url.pathname === '/api/graphql' && req.method === 'POST') return this.handleGraphql(req, res);
    if (url.pathname.startsWith(JOB_LOGS_PATH)) {
      const log = jobLogAt({ repo: (o, r) => this.state.repository(`${o}/${r}`) }, url.pathname);
      res.writeHead(log === undefined ? 404 : 200, { 'content-type': 'text/plain; charset=utf-8' }).end(log ?? '');
      return;
    }
    const git = /^\/([^/]+)\/([^/]+)\.git(\/.*)$/.exec(url.pathname);
    if (git) return this.handleGit(req, res, url, git[1]!, git[2]!);
    res.writeHead(404).end();
  }

  private async handleGit(req: IncomingMessage, res: ServerResponse, url: URL, owner: string, name: string): Promise<void> {
    const repository = this.state.repository(`${owner}/${name}`);
    const pushing = req.method === 'POST' && url.pathname.endsWith('/git-receive-pack');
    const writing = pushing || url.searchParams.get('service') === 'git-receive-pack';
    const user = repository && this.gitUser(req.headers.authorization, repository.name, writing ? 'write' : 'read');
    if (!repository || !user) {
      res.writeHead(repository ? 401 : 404, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
      return;
    }
    const bare = new BareRepo(repository.gitDir, this.#gitEnv);
    const before = pushing ? await bare.branches() : undefined;
    await serveGit(req, res, {
      projectRoot: path.join(this.#root, 'repos'), pathInfo: url.pathname, query: url.search.slice(1), remoteUser: user.login, env: this.#gitEnv,
      beforeEnd: async () => {
        if (!before) return;
        const after = await bare.branches();
        const moves = [...new Set([...before.keys(), ...after.keys()])]
          .map((branch) => ({ branch, before: before.get(branch) ?? ZERO_SHA, after: after.get(branch) ?? ZERO_SHA }))
          .filter((m) => m.before !== m.after);
        this.noteBranchMoves(repository, moves, user);
      },
    });
  }

  /** The user behind git's Basic credentials: the app's bot for a live installation token that may do this to this repository. */
  private gitUser(authorization: string | undefined, repository: string, access: 'read' | 'write'): User | undefined {
    const match = /^basic\s+(.+)$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const [, password = ''] = Buffer.from(match[1]!, 'base64').toString().split(':');
    const scope = this.#tokens.get(password);
    if (!this.tokenValid(password) || !scope) return undefined;
    const repositoryAllowed = scope.repositories === 'all' || scope.repositories.includes(repository);
    const accessAllowed = access === 'read' || scope.contents === 'write';
    return repositoryAllowed && accessAllowed ? this.bot : undefined;
  }

  private tokenValid(token: string): boolean {
    const scope = this.#tokens.get(token);
    return scope !== undefined && scope.expires > Date.now();
  }

  private jwtValid(jwt: string): boolean {
    const [header, payload, signature] = jwt.split('.');
    if (!header || !payload || !signature) return false;
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    if (!verifier.verify(this.#publicKey, Buffer.from(signature, 'base64url'))) return false;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss?: unknown; exp?: number };
    return String(claims.iss) === String(this.appId) && (claims.exp ?? 0) * 1000 > Date.now();
  }

  /** GraphQL, for the merge queue's one mutation; an installation token is needed, as for REST. */
  private async handleGraphql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let request: { query?: unknown; variables?: Record<string, unknown> } | undefined;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString()) as typeof request;
    } catch {
      request = undefined;
    }
    const recorded: RecordedCall = { index: this.calls.length + 1, at: Date.now(), method: 'POST', operation: 'graphql', path: '/graphql', query: {}, body: request };
    this.calls.push(recorded);
    const [scheme = '', credential = ''] = String(req.headers.authorization ?? '').split(/\s+/);
    if (!/^(token|bearer)$/i.test(scheme) || !this.tokenValid(credential)) {
      return this.reply(res, recorded, { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/graphql' } });
    }
    if (!request) return this.reply(res, recorded, { status: 400, body: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/graphql' } });
    if (typeof request.query === 'string' && /\benqueuePullRequest\b/.test(request.query)) recorded.operation = 'graphql enqueuePullRequest';
    const reply = this.mergeQueues.graphql(request, (id) => {
      const [kind, number] = Buffer.from(id, 'base64').toString().split('_');
      if (kind !== 'PR') return undefined;
      for (const repository of this.state.repositories.values()) {
        const issue = repository.issues.get(Number(number));
        if (issue?.pull) return { repository, issue };
      }
      return undefined;
    });
    this.reply(res, recorded, { status: 200, body: reply });
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const method = req.method ?? 'GET';
    const apiPath = url.pathname.slice('/api/v3'.length);
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const had = query[key];
      query[key] = had === undefined ? value : [...[had].flat(), value];
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      return this.send(res, { status: 400, body: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest' } });
    }

    const recorded: RecordedCall = { index: this.calls.length + 1, at: Date.now(), method, operation: `${method} ${apiPath}`, path: apiPath, query, body };
    this.calls.push(recorded);
    const { match, problems } = openApiValidator().checkRequest({ method, path: apiPath, query, body });
    if (match) recorded.operation = match.operationId;
    if (!match || problems.length > 0) {
      this.problems.push(...(problems.length > 0 ? problems : [`${method} ${apiPath} is not in GitHub's REST API`]));
      return this.reply(res, recorded, match ? { status: 422, body: { message: 'Invalid request.', documentation_url: 'https://docs.github.com/rest' } } : { status: 404, body: { message: 'Not Found' } });
    }

    const [scheme = '', credential = ''] = String(req.headers.authorization ?? '').split(/\s+/);
    const isJwt = /^bearer$/i.test(scheme) && credential.split('.').length === 3;
    const appOnly = APP_OPERATIONS.has(match.operationId) && match.operationId !== 'apps/get-authenticated';
    const authorised = isJwt
      ? APP_OPERATIONS.has(match.operationId) && this.jwtValid(credential)
      : !appOnly && /^(token|bearer)$/i.test(scheme) && this.tokenValid(credential);
    if (!authorised) return this.reply(res, recorded, { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } });

    await this.onCall?.(recorded, 'before');
    const limited = isJwt ? undefined : this.secondaryLimit?.take(match.operationId);
    if (limited) return this.reply(res, recorded, limited);
    const fault = this.faults.take(match.operationId);
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const lost = fault ? faultReply(fault) : undefined;
    if (lost && !fault!.afterHandling) return this.reply(res, recorded, lost);

    const handler = this.#routes[match.operationId];
    if (!handler) {
      this.problems.push(`the local GitHub does not implement ${match.operationId} (${method} ${match.template})`);
      return this.reply(res, recorded, { status: 501, body: { message: `not implemented: ${match.operationId}` } });
    }
    const call: Call = { params: match.params, query, body, headers: req.headers, actor: this.bot, viaApp: true, url };
    const reply = await handler(call);
    if (reply.raw === undefined && reply.status !== 204 && reply.status < 500) {
      const answerProblems = openApiValidator().checkResponse(match.operationId, reply.status, reply.body);
      this.problems.push(...answerProblems);
    }
    await this.onCall?.(recorded, 'after');
    return this.reply(res, recorded, lost ?? withETag(method, req.headers['if-none-match'], reply));
  }

  private reply(res: ServerResponse, recorded: RecordedCall, reply: Reply): void {
    recorded.status = reply.status;
    this.send(res, reply);
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed) return;
    const headers = { 'x-github-media-type': 'github.v3; format=json', ...reply.headers };
    if (reply.raw !== undefined) {
      res.writeHead(reply.status, headers).end(reply.raw);
    } else if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
    } else {
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(reply.body));
    }
  }

  private git(cwd: string, ...args: string[]): Promise<string> {
    return runGit(args, { cwd, env: this.#gitEnv });
  }
}

/**
 * As GitHub: a GET's JSON answer carries an ETag of its content, and the same GET sent with that ETag
 * in `If-None-Match` is answered 304 Not Modified, without a body, while the content is unchanged.
 */
function withETag(method: string, ifNoneMatch: string | string[] | undefined, reply: Reply): Reply {
  if (method !== 'GET' || reply.status !== 200 || reply.body === undefined) return reply;
  const etag = `"${createHash('sha1').update(JSON.stringify(reply.body)).digest('hex')}"`;
  if (ifNoneMatch === etag) return { status: 304, headers: { etag } };
  return { ...reply, headers: { ...reply.headers, etag } };
}
