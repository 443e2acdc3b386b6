/**
 * A stateful fake of the part of GitHub's REST API the app uses, on nock at the HTTP level, for tests with many
 * issues and PRs where static mocks are impractical:
 *
 *   const fake = new FakeGitHub({ config: 'agents: ...', permissions: { maintainer: 'write' } }).start();
 *   fake.addIssue({ number: 7, title: 'Fix it' });
 *   fake.label(7, 'agent:run', 'maintainer');   // then deliver the `issues.labeled` webhook yourself
 *   await fake.waitFor(() => fake.pulls.length === 1, 'the PR for #7');
 *   fake.stop();
 *
 * `start()` installs one persisted interceptor per HTTP method on https://api.github.com whose path filter accepts
 * only the routes below (for the configured owner/repo), so any other call is still unmatched and reported by
 * strict-nock. Replies are computed from the in-memory state (`issues`, `pulls`, `checkRuns`, `permissions`,
 * `config`), which tests may read and mutate directly. List endpoints honour `per_page`/`page` and send a `Link`
 * header when there is a next page. The interceptors are optional (never reported as pending) and `stop()` removes
 * exactly them. Static nock mocks registered after `start()` for a route the fake serves are shadowed by the fake:
 * use `failNext` for faults instead.
 *
 * Routes (`o`/`r` are the configured owner and repo):
 *   POST   /app/installations/:installationId/access_tokens     DELETE /installation/token     GET /app     GET /users/:login
 *   GET    /repos/o/r                                            GET /repos/o/r/contents/.github%2Fagent-mapreduce.yml (raw)
 *   GET    /repos/o/.github/contents/.github%2Fagent-mapreduce.yml (always 404)
 *   GET    /repos/o/r/collaborators/:login/permission
 *   GET    /repos/o/r/issues?labels&state                        GET /repos/o/r/issues/:n     GET /repos/o/r/issues/:n/events
 *   POST   /repos/o/r/issues/:n/labels                           DELETE /repos/o/r/issues/:n/labels/:name
 *   GET    /repos/o/r/issues/:n/comments   POST /repos/o/r/issues/:n/comments   PATCH /repos/o/r/issues/comments/:id
 *   GET    /repos/o/r/pulls?state&head&base   GET /repos/o/r/pulls/:n   POST /repos/o/r/pulls   PATCH /repos/o/r/pulls/:n
 *   POST   /repos/o/r/check-runs
 */
import nock from 'nock';
import { randomBytes } from 'node:crypto';
import { API, APP_ID, INSTALLATION_ID, TOKEN } from './test-probot.js';
import { OWNER, REPO } from './payloads.js';

export interface RecordedCall {
  /** Upper case, e.g. `GET` */
  method: string;
  /** The path as sent, still URL-encoded, without the query string, e.g. `/repos/octo-org/widgets/issues/7/labels/agent%3Afailed` */
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body; the raw text if it isn't JSON; `undefined` if empty */
  body: any;
}

export interface FakeActor {
  login: string;
  id: number;
}

export interface FakeLabelEvent {
  label: string;
  actor: FakeActor;
  /** ISO 8601, second precision as GitHub gives it */
  at: string;
}

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: 'User' | 'Bot' };
  created_at: string;
  updated_at: string;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  comments: FakeComment[];
  user: FakeActor;
  labelEvents: FakeLabelEvent[];
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  /** The head branch */
  head: string;
  /** The base branch */
  base: string;
  state: 'open' | 'closed';
  merged: boolean;
  headSha: string;
  html_url: string;
  /** When it was opened, as GitHub's `created_at` */
  createdAt: string;
  /** The head is in a fork (`fork-owner/<repo>`) */
  fromFork?: boolean;
  /** A PR is an issue too: it has labels, comments and label events through the issue endpoints */
  labels: string[];
  comments: FakeComment[];
  labelEvents: FakeLabelEvent[];
  user: FakeActor;
  /** Reviews as the REST API lists them (`APPROVED`, `CHANGES_REQUESTED`, …). */
  reviews?: Array<{ id: number; user: string; state: string; commit_id: string; submitted_at: string; body?: string }>;
  /** The inline comments of each review, by review id: set by the test before it delivers the review. */
  reviewComments?: Record<number, Array<{ path: string; line: number; diff_hunk: string; body: string; user: string }>>;
}

export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: string;
  output: { title: string; summary: string; text?: string };
}

/** A repository role; `maintain` and `triage` are reported as the legacy `write` and `read` permissions. */
export type FakeRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface FakeGitHubOptions {
  /** Default `octo-org` (OWNER) */
  owner?: string;
  /** Default `widgets` (REPO) */
  repo?: string;
  /** Default `https://github.com/<owner>/<repo>.git` */
  cloneUrl?: string;
  /** Default `main` */
  defaultBranch?: string;
  /** Roles by login; users not listed get 404 from the permission endpoint */
  permissions?: Record<string, FakeRole>;
  /** The YAML of `.github/agent-mapreduce.yml`; null (the default) for none, here or in the org's `.github` repo */
  config?: string | null;
  /** Default INSTALLATION_ID (1001) */
  installationId?: number;
  /** Default `agent-mapreduce`; the bot user is `<appSlug>[bot]` */
  appSlug?: string;
  /** The head sha of a PR being created from `branch`; throwing makes the create a 422 (no such head). Default: a random 40-hex. */
  resolveHeadSha?: (branch: string) => string | Promise<string>;
}

export type CommentSeed = string | { body: string; login?: string; type?: 'User' | 'Bot' };

export interface NewFakeIssue {
  number?: number;
  title: string;
  body?: string;
  state?: 'open' | 'closed';
  labels?: string[];
  /** Oldest first; a plain string is a comment by `maintainer` (a User) */
  comments?: CommentSeed[];
  /** The issue's author; default `reporter` */
  user?: string;
  /** When given, the initial labels get `labeled` events by this user (otherwise none) */
  labeledBy?: string;
}

export interface NewFakePull {
  number?: number;
  title: string;
  body?: string;
  head: string;
  /** Default: the default branch */
  base?: string;
  state?: 'open' | 'closed';
  merged?: boolean;
  /** Default: a random 40-hex (`resolveHeadSha` is only used for PRs created through the API) */
  headSha?: string;
  fromFork?: boolean;
  labels?: string[];
  /** Default: the bot */
  user?: string;
}

type Reply = [number, unknown, Record<string, string>?];

interface Request {
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
  params: Record<string, string>;
}

interface Route {
  method: string;
  segments: string[];
  handle: (request: Request) => Reply | Promise<Reply>;
}

interface Fault {
  method: string;
  pattern: RegExp;
  status: number;
  remaining: number;
  body: object | undefined;
}

const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;
const CONFIG_FILE = '.github/agent-mapreduce.yml';
const BOT_USER_ID = 41898282;
const FORK_OWNER = 'fork-owner';

const statusText: Record<number, string> = {
  400: 'Bad Request',
  401: 'Bad credentials',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Validation Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** GitHub's timestamps: ISO 8601 without milliseconds. */
export function githubTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomSha(): string {
  return randomBytes(20).toString('hex');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function errorBody(status: number, message = statusText[status] ?? 'Error'): object {
  return { message, documentation_url: 'https://docs.github.com/rest', status: String(status) };
}

const notFound = (): Reply => [404, errorBody(404)];

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly cloneUrl: string;
  readonly defaultBranch: string;
  readonly installationId: number;
  readonly appSlug: string;
  /** The app's bot user, author of everything created through the API */
  readonly bot: FakeActor;

  /** Every request the fake answered, in order, token exchange and injected faults included */
  readonly calls: RecordedCall[] = [];
  readonly issues = new Map<number, FakeIssue>();
  readonly pulls: FakePull[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  permissions: Record<string, FakeRole>;
  config: string | null;

  private readonly resolveHeadSha: ((branch: string) => string | Promise<string>) | undefined;
  /** Performs a merge on the test's git remote; the new base commit, or null for "not mergeable". */
  onMerge: ((pull: FakePull, method: string) => Promise<string | null>) | undefined;
  onDeleteBranch: ((branch: string) => Promise<void>) | undefined;
  readonly merges: Array<{ number: number; sha: string; method: string }> = [];
  readonly deletedBranches: string[] = [];
  /** Commit statuses by sha (the legacy status API); check runs other than the app's own count too. */
  readonly statuses: Array<{ sha: string; context: string; state: 'success' | 'pending' | 'failure' | 'error' }> = [];

  /** Open PRs' heads follow their branches, as on GitHub. */
  private async refreshHeads(): Promise<void> {
    if (!this.resolveHeadSha) return;
    for (const pull of this.pulls.filter((p) => p.state === 'open' && !p.fromFork)) {
      try {
        pull.headSha = await this.resolveHeadSha(pull.head);
      } catch {
        // the branch is gone: keep the last head
      }
    }
  }
  private readonly users = new Map<string, FakeActor>();
  private readonly labelIds = new Map<string, number>();
  private readonly routes: Route[];
  private readonly faults: Fault[] = [];
  private interceptors: nock.Interceptor[] = [];
  private nextUserId = 100001;
  private nextCommentId = 5001;
  private nextCheckRunId = 70001;

  constructor(options: FakeGitHubOptions = {}) {
    this.owner = options.owner ?? OWNER;
    this.repo = options.repo ?? REPO;
    this.cloneUrl = options.cloneUrl ?? `https://github.com/${this.owner}/${this.repo}.git`;
    this.defaultBranch = options.defaultBranch ?? 'main';
    this.installationId = options.installationId ?? INSTALLATION_ID;
    this.appSlug = options.appSlug ?? 'agent-mapreduce';
    this.permissions = { ...(options.permissions ?? {}) };
    this.config = options.config ?? null;
    this.resolveHeadSha = options.resolveHeadSha;
    this.bot = { login: `${this.appSlug}[bot]`, id: BOT_USER_ID };
    this.users.set(this.bot.login, this.bot);
    this.routes = this.defineRoutes();
  }

  // ---------------------------------------------------------------- lifecycle

  /** Installs the interceptors; they stay until `stop()` (or nock.cleanAll()). */
  start(): this {
    if (this.interceptors.length > 0) throw new Error('FakeGitHub already started');
    const scope = nock(API).persist();
    for (const method of METHODS) {
      const interceptor = scope.intercept((path: string) => this.accepts(method, path), method).optionally();
      interceptor.reply((uri: string, body: unknown) => this.answer(method, uri, body));
      this.interceptors.push(interceptor);
    }
    return this;
  }

  /** Removes exactly the interceptors `start()` installed; safe to call twice or after nock.cleanAll(). */
  stop(): void {
    for (const interceptor of this.interceptors) nock.removeInterceptor(interceptor);
    this.interceptors = [];
  }

  // ---------------------------------------------------------------- state helpers

  /** The user with this login, given a stable id the first time it is seen (the bot is 41898282). */
  user(login: string): FakeActor {
    let actor = this.users.get(login);
    if (!actor) {
      actor = { login, id: this.nextUserId++ };
      this.users.set(login, actor);
    }
    return actor;
  }

  addIssue(partial: NewFakeIssue): FakeIssue {
    const number = partial.number ?? this.nextNumber();
    if (this.thread(number)) throw new Error(`FakeGitHub: #${number} already exists`);
    const labels = [...new Set(partial.labels ?? [])];
    const now = githubTime();
    const labeledBy = partial.labeledBy === undefined ? undefined : this.user(partial.labeledBy);
    const issue: FakeIssue = {
      number,
      title: partial.title,
      body: partial.body ?? '',
      state: partial.state ?? 'open',
      labels,
      comments: (partial.comments ?? []).map((seed) => this.newComment(seed)),
      user: this.user(partial.user ?? 'reporter'),
      labelEvents: labeledBy ? labels.map((label) => ({ label, actor: labeledBy, at: now })) : [],
    };
    this.issues.set(number, issue);
    return issue;
  }

  /** A PR that already exists (the app's own are created through `POST /pulls`). */
  addPull(partial: NewFakePull): FakePull {
    const number = partial.number ?? this.nextNumber();
    if (this.thread(number)) throw new Error(`FakeGitHub: #${number} already exists`);
    const pull: FakePull = {
      number,
      title: partial.title,
      body: partial.body ?? '',
      head: partial.head,
      base: partial.base ?? this.defaultBranch,
      state: partial.state ?? 'open',
      merged: partial.merged ?? false,
      headSha: partial.headSha ?? randomSha(),
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${number}`,
      createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(partial.fromFork ? { fromFork: true } : {}),
      labels: [...new Set(partial.labels ?? [])],
      comments: [],
      labelEvents: [],
      user: partial.user === undefined ? this.bot : this.user(partial.user),
    };
    this.pulls.push(pull);
    return pull;
  }

  /**
   * What GitHub does when `actor` adds `label` to issue (or PR) `issueNumber`: the label is added and a `labeled`
   * event recorded. Returns the event, or undefined when the issue already had the label (GitHub records nothing).
   * Deliver the webhook yourself.
   */
  label(issueNumber: number, label: string, actor: string | FakeActor, at: Date = new Date()): FakeLabelEvent | undefined {
    const thread = this.requireThread(issueNumber);
    if (thread.labels.includes(label)) return undefined;
    const who = typeof actor === 'string' ? this.user(actor) : actor;
    if (!this.users.has(who.login)) this.users.set(who.login, who);
    thread.labels.push(label);
    const event = { label, actor: who, at: githubTime(at) };
    thread.labelEvents.push(event);
    return event;
  }

  /** Removes a label as someone would in the UI; false if the issue did not have it. */
  unlabel(issueNumber: number, label: string): boolean {
    const thread = this.requireThread(issueNumber);
    const index = thread.labels.indexOf(label);
    if (index < 0) return false;
    thread.labels.splice(index, 1);
    return true;
  }

  /** A comment someone posts on issue (or PR) `issueNumber` (a User unless told); deliver the webhook yourself. */
  comment(issueNumber: number, body: string, login = 'maintainer', type: 'User' | 'Bot' = 'User'): FakeComment {
    const thread = this.requireThread(issueNumber);
    const comment = this.newComment({ body, login, type });
    thread.comments.push(comment);
    return comment;
  }

  /** The issue with this number (not a PR: see `pull`); throws if there is none. */
  issue(issueNumber: number): FakeIssue {
    const issue = this.issues.get(issueNumber);
    if (!issue) throw new Error(`FakeGitHub: no issue #${issueNumber}`);
    return issue;
  }

  pull(pullNumber: number): FakePull {
    const pull = this.pulls.find((p) => p.number === pullNumber);
    if (!pull) throw new Error(`FakeGitHub: no PR #${pullNumber}`);
    return pull;
  }

  // ---------------------------------------------------------------- calls, faults, waiting

  /** Calls with this method (case-insensitive) whose path, as sent or URL-decoded, matches the pattern. */
  callsTo(method: string, pathPattern: RegExp): RecordedCall[] {
    const wanted = method.toUpperCase();
    return this.calls.filter((c) => c.method === wanted && matchesPath(pathPattern, c.path));
  }

  /**
   * The next `times` requests with this method whose path (as sent or URL-decoded) matches get `status` with
   * `body` (default: GitHub's error shape) instead of their normal answer, and change no state. They are recorded
   * in `calls`. Faults are used in the order they were set. Works for paths the fake does not otherwise serve.
   */
  failNext(method: string, pathPattern: RegExp, status: number, times = 1, body?: object): void {
    this.faults.push({ method: method.toUpperCase(), pattern: pathPattern, status, remaining: times, body });
  }

  /** Faults set by `failNext` that no request has used yet. */
  get pendingFaults(): number {
    return this.faults.reduce((sum, f) => sum + f.remaining, 0);
  }

  /**
   * Resolves once `predicate()` is true, polling every few milliseconds; rejects after `timeoutMs` (default 15 s)
   * with `what` and the calls seen so far.
   */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const check = () => {
        let done: boolean;
        try {
          done = predicate();
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (done) {
          resolve();
        } else if (Date.now() > deadline) {
          reject(new Error(`FakeGitHub: timed out after ${timeoutMs} ms waiting for ${what}; calls so far:\n${this.describeCalls()}`));
        } else {
          setTimeout(check, 5);
        }
      };
      setImmediate(check);
    });
  }

  /** Resolves once at least `count` calls match (see `callsTo`). */
  waitForCalls(method: string, pathPattern: RegExp, count = 1, timeoutMs?: number): Promise<void> {
    return this.waitFor(
      () => this.callsTo(method, pathPattern).length >= count,
      `${count} × ${method.toUpperCase()} ${pathPattern}`,
      timeoutMs,
    );
  }

  /** One line per call: `METHOD /path?query`. */
  describeCalls(): string {
    if (this.calls.length === 0) return '  (none)';
    return this.calls
      .map((c) => {
        const query = new URLSearchParams(c.query).toString();
        return `  ${c.method} ${c.path}${query ? `?${query}` : ''}`;
      })
      .join('\n');
  }

  // ---------------------------------------------------------------- request handling

  private accepts(method: string, rawPath: string): boolean {
    const path = rawPath.split('?')[0] ?? '';
    if (this.faults.some((f) => f.remaining > 0 && f.method === method && matchesPath(f.pattern, path))) return true;
    return this.route(method, path) !== undefined;
  }

  private route(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    const segments = path.split('/');
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      route.segments.forEach((want, i) => {
        const got = safeDecode(segments[i] ?? '');
        if (want.startsWith(':')) params[want.slice(1)] = got;
        else if (want !== got) ok = false;
      });
      if (ok) return { route, params };
    }
    return undefined;
  }

  private async answer(method: string, uri: string, rawBody: unknown): Promise<Reply> {
    const [path = '', search = ''] = uri.split('?');
    const query = Object.fromEntries(new URLSearchParams(search));
    const body = rawBody === '' ? undefined : rawBody;
    this.calls.push({ method, path, query, body });

    const fault = this.faults.find((f) => f.remaining > 0 && f.method === method && matchesPath(f.pattern, path));
    if (fault) {
      fault.remaining--;
      if (fault.remaining === 0) this.faults.splice(this.faults.indexOf(fault), 1);
      return [fault.status, fault.body ?? errorBody(fault.status)];
    }

    const found = this.route(method, path);
    if (!found) return notFound(); // only after a fault for an unrouted path was used up concurrently
    try {
      return await found.route.handle({ method, path, query, body, params: found.params });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return [500, errorBody(500, `FakeGitHub failed answering ${method} ${path}: ${message}`)];
    }
  }

  private defineRoutes(): Route[] {
    const repoBase = `/repos/${this.owner}/${this.repo}`;
    const routes: Route[] = [];
    const on = (method: string, pattern: string, handle: Route['handle']) => {
      routes.push({ method, segments: pattern.split('/'), handle });
    };

    // git tokens: one per fetch or push, narrowed to the repository and step, revoked after use
    on('DELETE', '/installation/token', () => [204, undefined]);

    on('POST', `/app/installations/${this.installationId}/access_tokens`, () => [
      201,
      {
        token: TOKEN,
        expires_at: githubTime(new Date(Date.now() + 3_600_000)),
        permissions: { issues: 'write', pull_requests: 'write', contents: 'write', checks: 'write', metadata: 'read' },
        repository_selection: 'all',
      },
    ]);

    on('GET', '/app', () => [
      200,
      {
        id: APP_ID,
        slug: this.appSlug,
        node_id: 'MDM6QXBwNDI0Mg==',
        name: this.appSlug,
        owner: { login: this.owner, id: 1, type: 'Organization' },
        html_url: `https://github.com/apps/${this.appSlug}`,
        events: ['issues', 'issue_comment', 'pull_request', 'push'],
      },
    ]);

    on('GET', '/users/:login', ({ params }) => {
      const login = params.login ?? '';
      const actor = this.users.get(login) ?? (login in this.permissions ? this.user(login) : undefined);
      if (!actor) return notFound();
      return [200, this.userJson(actor)];
    });

    on('GET', repoBase, () => [200, this.repoJson()]);

    on('GET', `${repoBase}/contents/:path`, ({ params }) => {
      if (params.path !== CONFIG_FILE || this.config === null) return notFound();
      return [200, this.config, { 'content-type': 'application/vnd.github.raw; charset=utf-8' }];
    });
    if (this.repo !== '.github') on('GET', `/repos/${this.owner}/.github/contents/:path`, () => notFound());

    on('GET', `${repoBase}/collaborators/:login/permission`, ({ params }) => {
      const login = params.login ?? '';
      const role = Object.hasOwn(this.permissions, login) ? this.permissions[login] : undefined;
      if (role === undefined) return notFound();
      const legacy = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
      return [200, { permission: legacy, role_name: role, user: { ...this.userJson(this.user(login)), permissions: permissionFlags(role) } }];
    });

    on('GET', `${repoBase}/issues`, ({ path, query }) => {
      const state = query.state ?? 'open';
      const wanted = (query.labels ?? '').split(',').map((l) => l.trim()).filter(Boolean);
      const issues = [...this.issues.values()]
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => wanted.every((l) => i.labels.includes(l)))
        .sort((a, b) => b.number - a.number)
        .map((i) => this.issueJson(i));
      return this.page(path, query, issues);
    });

    on('GET', `${repoBase}/issues/:n`, ({ params }) => {
      const thread = this.thread(Number(params.n));
      return thread ? [200, this.issueJson(thread)] : notFound();
    });

    on('GET', `${repoBase}/issues/:n/events`, ({ params, path, query }) => {
      const thread = this.thread(Number(params.n));
      if (!thread) return notFound();
      const events = thread.labelEvents.map((e, index) => ({
        id: 880000 + thread.number * 1000 + index,
        node_id: `LE_fake${thread.number}_${index}`,
        url: `${API}${repoBase}/issues/events/${880000 + thread.number * 1000 + index}`,
        actor: this.userJson(e.actor),
        event: 'labeled',
        commit_id: null,
        commit_url: null,
        created_at: e.at,
        label: { name: e.label, color: 'ededed' },
        performed_via_github_app: null,
      }));
      return this.page(path, query, events);
    });

    on('POST', `${repoBase}/issues/:n/labels`, ({ params, body }) => {
      const thread = this.thread(Number(params.n));
      if (!thread) return notFound();
      const requested: unknown[] = Array.isArray(body) ? body : Array.isArray(body?.labels) ? body.labels : [];
      const names = requested.map((l) => (typeof l === 'string' ? l : (l as { name?: string })?.name)).filter((l): l is string => !!l);
      if (names.length === 0) return [422, { ...errorBody(422), errors: [{ resource: 'Label', code: 'missing_field', field: 'labels' }] }];
      for (const name of names) this.label(thread.number, name, this.bot);
      return [200, thread.labels.map((l) => this.labelJson(l))];
    });

    on('DELETE', `${repoBase}/issues/:n/labels/:name`, ({ params }) => {
      const thread = this.thread(Number(params.n));
      if (!thread) return notFound();
      if (!this.unlabel(thread.number, params.name ?? '')) return [404, errorBody(404, 'Label does not exist')];
      return [200, thread.labels.map((l) => this.labelJson(l))];
    });

    on('GET', `${repoBase}/issues/:n/comments`, ({ params, path, query }) => {
      const thread = this.thread(Number(params.n));
      if (!thread) return notFound();
      return this.page(path, query, thread.comments.map((c) => this.commentJson(c, thread.number)));
    });

    on('POST', `${repoBase}/issues/:n/comments`, ({ params, body }) => {
      const thread = this.thread(Number(params.n));
      if (!thread) return notFound();
      if (typeof body?.body !== 'string') return [422, { ...errorBody(422), errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }] }];
      const comment = this.newComment({ body: body.body, login: this.bot.login, type: 'Bot' });
      thread.comments.push(comment);
      return [201, this.commentJson(comment, thread.number)];
    });

    on('PATCH', `${repoBase}/issues/comments/:id`, ({ params, body }) => {
      const id = Number(params.id);
      for (const thread of this.threads()) {
        const comment = thread.comments.find((c) => c.id === id);
        if (!comment) continue;
        if (typeof body?.body === 'string') comment.body = body.body;
        comment.updated_at = githubTime();
        return [200, this.commentJson(comment, thread.number)];
      }
      return notFound();
    });

    on('GET', `${repoBase}/pulls`, async ({ path, query }) => {
      await this.refreshHeads();
      const state = query.state ?? 'open';
      const pulls = this.pulls
        .filter((p) => state === 'all' || p.state === state)
        .filter((p) => query.head === undefined || this.headLabel(p) === query.head)
        .filter((p) => query.base === undefined || p.base === query.base)
        .sort((a, b) => b.number - a.number)
        .map((p) => this.pullJson(p));
      return this.page(path, query, pulls);
    });

    on('GET', `${repoBase}/pulls/:n/reviews/:id/comments`, ({ params, path, query }) => {
      const pull = this.pulls.find((p) => p.number === Number(params.n));
      const comments = pull?.reviewComments?.[Number(params.id)];
      if (!pull || !comments) return notFound();
      return this.page(path, query, comments.map((c, i) => ({
        id: Number(params.id) * 1000 + i, pull_request_review_id: Number(params.id), path: c.path, line: c.line,
        original_line: c.line, diff_hunk: c.diff_hunk, body: c.body, user: { login: c.user, type: 'User' },
      })));
    });

    on('GET', `${repoBase}/pulls/:n`, async ({ params }) => {
      await this.refreshHeads();
      const pull = this.pulls.find((p) => p.number === Number(params.n));
      return pull ? [200, this.pullJson(pull)] : notFound();
    });

    on('GET', `${repoBase}/pulls/:n/reviews`, ({ params, path, query }) => {
      const pull = this.pulls.find((p) => p.number === Number(params.n));
      if (!pull) return notFound();
      return this.page(path, query, (pull.reviews ?? []).map((r) => ({
        id: r.id, user: this.userJson(this.user(r.user)), body: r.body ?? '', state: r.state, commit_id: r.commit_id,
        submitted_at: r.submitted_at, author_association: 'MEMBER',
      })));
    });

    on('PUT', `${repoBase}/pulls/:n/merge`, async ({ params, body }) => {
      await this.refreshHeads();
      const pull = this.pulls.find((p) => p.number === Number(params.n));
      if (!pull) return notFound();
      if (pull.state !== 'open') return [405, errorBody(405, 'Pull Request is not mergeable')];
      if (typeof body?.sha === 'string' && body.sha !== pull.headSha) {
        return [409, errorBody(409, 'Head branch was modified. Review and try the merge again.')];
      }
      if (!this.onMerge) return [405, errorBody(405, 'Pull Request is not mergeable')];
      const merged = await this.onMerge(pull, String(body?.merge_method ?? 'merge'));
      if (merged === null) return [405, errorBody(405, 'Pull Request is not mergeable')];
      pull.state = 'closed';
      pull.merged = true;
      this.merges.push({ number: pull.number, sha: merged, method: String(body?.merge_method ?? 'merge') });
      return [200, { sha: merged, merged: true, message: 'Pull Request successfully merged' }];
    });

    on('DELETE', `${repoBase}/git/refs/:ref`, async ({ params }) => {
      const ref = decodeURIComponent(params.ref ?? '');
      if (!ref.startsWith('heads/') || !this.onDeleteBranch) return notFound();
      await this.onDeleteBranch(ref.slice('heads/'.length));
      this.deletedBranches.push(ref.slice('heads/'.length));
      return [204, ''];
    });

    on('GET', `${repoBase}/commits/:sha/check-runs`, ({ params }) => {
      const runs = this.checkRuns.filter((r) => r.head_sha === params.sha && r.name !== 'agent-mapreduce' && !r.name.startsWith('agent-mapreduce/'));
      return [200, { total_count: runs.length, check_runs: runs.map((r) => ({ id: r.id, name: r.name, head_sha: r.head_sha, status: r.status, conclusion: r.conclusion ?? null })) }];
    });

    on('GET', `${repoBase}/commits/:sha/status`, ({ params }) => {
      const statuses = this.statuses.filter((st) => st.sha === params.sha);
      const state = statuses.length === 0 ? 'pending' : statuses.some((st) => st.state === 'failure' || st.state === 'error') ? 'failure'
        : statuses.every((st) => st.state === 'success') ? 'success' : 'pending';
      return [200, { state, sha: params.sha, total_count: statuses.length, statuses: statuses.map((st) => ({ context: st.context, state: st.state })) }];
    });

    on('POST', `${repoBase}/pulls`, async ({ body }) => {
      const title = body?.title;
      const head = body?.head;
      const base = body?.base;
      const missing = ['title', 'head', 'base'].filter((field) => typeof body?.[field] !== 'string' || body[field] === '');
      if (missing.length > 0) {
        return [422, { ...errorBody(422), errors: missing.map((field) => ({ resource: 'PullRequest', code: 'missing_field', field })) }];
      }
      const branch = (head as string).includes(':') ? (head as string).slice((head as string).indexOf(':') + 1) : (head as string);
      if (this.pulls.some((p) => p.state === 'open' && !p.fromFork && p.head === branch)) {
        return [422, { ...errorBody(422), errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.owner}:${branch}.` }] }];
      }
      if (branch === base) {
        return [422, { ...errorBody(422), errors: [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${branch}` }] }];
      }
      let headSha: string;
      try {
        headSha = this.resolveHeadSha ? await this.resolveHeadSha(branch) : randomSha();
      } catch {
        return [422, { ...errorBody(422), errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] }];
      }
      const pull = this.addPull({ title: title as string, body: typeof body.body === 'string' ? body.body : '', head: branch, base: base as string, headSha });
      return [201, this.pullJson(pull)];
    });

    on('PATCH', `${repoBase}/pulls/:n`, ({ params, body }) => {
      const pull = this.pulls.find((p) => p.number === Number(params.n));
      if (!pull) return notFound();
      if (typeof body?.title === 'string') pull.title = body.title;
      if (typeof body?.body === 'string') pull.body = body.body;
      if (typeof body?.base === 'string') pull.base = body.base;
      if (body?.state === 'open' || body?.state === 'closed') pull.state = body.state;
      return [200, this.pullJson(pull)];
    });

    on('POST', `${repoBase}/check-runs`, ({ body }) => {
      if (typeof body?.name !== 'string' || typeof body?.head_sha !== 'string') {
        return [422, { ...errorBody(422), errors: [{ resource: 'CheckRun', code: 'missing_field' }] }];
      }
      const conclusion = typeof body.conclusion === 'string' ? body.conclusion : undefined;
      const status = conclusion ? 'completed' : (body.status ?? 'queued');
      if (status === 'completed' && !conclusion) {
        return [422, { ...errorBody(422, 'Invalid request.\n\nNo subschema in "anyOf" matched.\n"conclusion" wasn\'t supplied.') }];
      }
      const output = body.output ?? {};
      const run: FakeCheckRun = {
        id: this.nextCheckRunId++,
        name: body.name,
        head_sha: body.head_sha,
        status,
        ...(conclusion ? { conclusion } : {}),
        output: { title: output.title ?? '', summary: output.summary ?? '', ...(typeof output.text === 'string' ? { text: output.text } : {}) },
      };
      this.checkRuns.push(run);
      const now = githubTime();
      return [
        201,
        {
          id: run.id,
          node_id: `CR_fake${run.id}`,
          head_sha: run.head_sha,
          name: run.name,
          status: run.status,
          conclusion: run.conclusion ?? null,
          started_at: now,
          completed_at: run.status === 'completed' ? now : null,
          html_url: `https://github.com/${this.owner}/${this.repo}/runs/${run.id}`,
          url: `${API}${repoBase}/check-runs/${run.id}`,
          output: { ...run.output, text: run.output.text ?? null, annotations_count: 0, annotations_url: `${API}${repoBase}/check-runs/${run.id}/annotations` },
          app: { id: APP_ID, slug: this.appSlug, name: this.appSlug },
          pull_requests: [],
        },
      ];
    });

    return routes;
  }

  // ---------------------------------------------------------------- state internals

  private nextNumber(): number {
    return Math.max(0, ...this.issues.keys(), ...this.pulls.map((p) => p.number)) + 1;
  }

  private thread(n: number): FakeIssue | FakePull | undefined {
    return this.issues.get(n) ?? this.pulls.find((p) => p.number === n);
  }

  private requireThread(n: number): FakeIssue | FakePull {
    const thread = this.thread(n);
    if (!thread) throw new Error(`FakeGitHub: no issue or PR #${n}`);
    return thread;
  }

  private threads(): Array<FakeIssue | FakePull> {
    return [...this.issues.values(), ...this.pulls];
  }

  private newComment(seed: CommentSeed): FakeComment {
    const { body, login = 'maintainer', type = 'User' } = typeof seed === 'string' ? { body: seed } : seed;
    this.user(login);
    const now = githubTime();
    return { id: this.nextCommentId++, body, user: { login, type }, created_at: now, updated_at: now };
  }

  private headLabel(pull: FakePull): string {
    return `${pull.fromFork ? FORK_OWNER : this.owner}:${pull.head}`;
  }

  private page(path: string, query: Record<string, string>, items: unknown[]): Reply {
    const perPage = Math.min(100, Math.max(1, Number(query.per_page ?? 30) || 30));
    const page = Math.max(1, Number(query.page ?? 1) || 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    if (page * perPage >= items.length) return [200, slice];
    const next = new URLSearchParams({ ...query, page: String(page + 1) });
    const last = new URLSearchParams({ ...query, page: String(Math.ceil(items.length / perPage)) });
    return [200, slice, { link: `<${API}${path}?${next}>; rel="next", <${API}${path}?${last}>; rel="last"` }];
  }

  // ---------------------------------------------------------------- JSON shapes

  private userJson(actor: FakeActor): object {
    const isBot = actor.login.endsWith('[bot]');
    return {
      login: actor.login,
      id: actor.id,
      node_id: `U_fake${actor.id}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${actor.id}?v=4`,
      url: `${API}/users/${encodeURIComponent(actor.login)}`,
      html_url: isBot ? `https://github.com/apps/${actor.login.slice(0, -'[bot]'.length)}` : `https://github.com/${actor.login}`,
      type: isBot ? 'Bot' : 'User',
      site_admin: false,
    };
  }

  private repoJson(): object {
    const fullName = `${this.owner}/${this.repo}`;
    return {
      id: 123456789,
      node_id: 'R_fakeRepo',
      name: this.repo,
      full_name: fullName,
      private: false,
      owner: { login: this.owner, id: 1, type: 'Organization' },
      html_url: `https://github.com/${fullName}`,
      url: `${API}/repos/${fullName}`,
      clone_url: this.cloneUrl,
      git_url: `git://github.com/${fullName}.git`,
      ssh_url: `git@github.com:${fullName}.git`,
      default_branch: this.defaultBranch,
      fork: false,
      archived: false,
      disabled: false,
      visibility: 'public',
    };
  }

  private labelJson(name: string): object {
    let id = this.labelIds.get(name);
    if (id === undefined) {
      id = 600000 + this.labelIds.size;
      this.labelIds.set(name, id);
    }
    return {
      id,
      node_id: `LA_fake${id}`,
      url: `${API}/repos/${this.owner}/${this.repo}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      default: false,
      description: null,
    };
  }

  private issueJson(thread: FakeIssue | FakePull): object {
    const isPull = 'headSha' in thread;
    const base = `${API}/repos/${this.owner}/${this.repo}`;
    const now = githubTime();
    return {
      id: 2_000_000 + thread.number,
      node_id: `I_fake${thread.number}`,
      url: `${base}/issues/${thread.number}`,
      repository_url: base,
      comments_url: `${base}/issues/${thread.number}/comments`,
      events_url: `${base}/issues/${thread.number}/events`,
      html_url: `https://github.com/${this.owner}/${this.repo}/${isPull ? 'pull' : 'issues'}/${thread.number}`,
      number: thread.number,
      title: thread.title,
      body: thread.body,
      state: thread.state,
      state_reason: thread.state === 'closed' ? 'completed' : null,
      locked: false,
      user: this.userJson(thread.user),
      labels: thread.labels.map((l) => this.labelJson(l)),
      assignee: null,
      assignees: [],
      comments: thread.comments.length,
      author_association: 'NONE',
      created_at: now,
      updated_at: now,
      closed_at: thread.state === 'closed' ? now : null,
      ...(isPull ? { pull_request: { url: `${base}/pulls/${thread.number}`, html_url: thread.html_url, merged_at: thread.merged ? now : null } } : {}),
    };
  }

  private commentJson(comment: FakeComment, issueNumber: number): object {
    const base = `${API}/repos/${this.owner}/${this.repo}`;
    const actor = this.user(comment.user.login);
    return {
      id: comment.id,
      node_id: `IC_fake${comment.id}`,
      url: `${base}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/issues/${issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${base}/issues/${issueNumber}`,
      body: comment.body,
      user: { ...this.userJson(actor), type: comment.user.type },
      created_at: comment.created_at,
      updated_at: comment.updated_at,
      author_association: comment.user.type === 'Bot' ? 'NONE' : 'MEMBER',
      performed_via_github_app: comment.user.login === this.bot.login ? { id: APP_ID, slug: this.appSlug } : null,
    };
  }

  private pullJson(pull: FakePull): object {
    const fullName = `${this.owner}/${this.repo}`;
    const headOwner = pull.fromFork ? FORK_OWNER : this.owner;
    const repoRef = (owner: string) => ({
      id: owner === this.owner ? 123456789 : 987654321,
      name: this.repo,
      full_name: `${owner}/${this.repo}`,
      owner: { login: owner, id: owner === this.owner ? 1 : 2, type: owner === this.owner ? 'Organization' : 'User' },
      clone_url: owner === this.owner ? this.cloneUrl : `https://github.com/${owner}/${this.repo}.git`,
      fork: owner !== this.owner,
    });
    const now = githubTime();
    return {
      id: 3_000_000 + pull.number,
      node_id: `PR_fake${pull.number}`,
      url: `${API}/repos/${fullName}/pulls/${pull.number}`,
      html_url: pull.html_url,
      issue_url: `${API}/repos/${fullName}/issues/${pull.number}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: pull.title,
      body: pull.body,
      user: this.userJson(pull.user),
      labels: pull.labels.map((l) => this.labelJson(l)),
      draft: false,
      merged: pull.merged,
      merged_at: pull.merged ? now : null,
      closed_at: pull.state === 'closed' ? now : null,
      created_at: pull.createdAt,
      updated_at: now,
      maintainer_can_modify: false,
      head: { label: this.headLabel(pull), ref: pull.head, sha: pull.headSha, user: { login: headOwner }, repo: repoRef(headOwner) },
      base: { label: `${this.owner}:${pull.base}`, ref: pull.base, sha: '0'.repeat(40), user: { login: this.owner }, repo: repoRef(this.owner) },
      author_association: 'NONE',
    };
  }
}

function matchesPath(pattern: RegExp, path: string): boolean {
  pattern.lastIndex = 0;
  if (pattern.test(path)) return true;
  pattern.lastIndex = 0;
  return pattern.test(safeDecode(path));
}

function permissionFlags(role: FakeRole): Record<string, boolean> {
  const rank = ['none', 'read', 'triage', 'write', 'maintain', 'admin'].indexOf(role);
  return { pull: rank >= 1, triage: rank >= 2, push: rank >= 3, maintain: rank >= 4, admin: rank >= 5 };
}
