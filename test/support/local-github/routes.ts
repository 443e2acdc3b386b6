/**
 * The REST operations the local GitHub implements, keyed by the operation ids of GitHub's OpenAPI
 * description. Each changes the state as GitHub would and sends the webhooks GitHub would send.
 */
import type { BareRepo } from './bare-repo.js';
import type { Renderer } from './render.js';
import type { GitHubState, Issue, Repository, User } from './state.js';

export interface Call {
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  body: any;
  headers: Record<string, string | string[] | undefined>;
  /** The user the token acts as: the app's bot for installation tokens. */
  actor: User;
  viaApp: boolean;
  /** The API's own URL of this call, for pagination links */
  url: URL;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A body sent as is (e.g. a raw file), not as JSON and not checked against the description */
  raw?: Buffer;
}

export type Handler = (call: Call) => Promise<Reply> | Reply;

export interface RouteContext {
  state: GitHubState;
  render: Renderer;
  repo(owner: string, name: string): Repository | undefined;
  bare(repository: Repository): BareRepo;
  installationId: number;
  /** Sends a webhook with `repository`, `sender` and `installation` filled in. */
  emit(name: string, repository: Repository | undefined, sender: User, payload: Record<string, unknown>): void;
  issueToken(scope?: { repositories?: string[]; contents?: 'read' | 'write' }): { token: string; expiresAt: string };
  revokeToken(token: string): void;
  /** The PR's head moved: record it and send `pull_request.synchronize`. */
  noteBranchMoves(repository: Repository, moves: Array<{ branch: string; before: string; after: string }>, pusher: User): void;
  /** The branch takes merges only through GitHub's merge queue. */
  requiresMergeQueue(repository: Repository, branch: string): boolean;
}

const notFound: Reply = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };

function validationFailed(message: string): Reply {
  return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message }], documentation_url: 'https://docs.github.com/rest' } };
}

function page<T>(items: T[], call: Call): Reply {
  const perPage = Math.min(Number(call.query.per_page ?? 30), 100);
  const pageNumber = Number(call.query.page ?? 1);
  const slice = items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
  const headers: Record<string, string> = {};
  if (pageNumber * perPage < items.length) {
    const next = new URL(call.url);
    next.searchParams.set('page', String(pageNumber + 1));
    headers.link = `<${next.href}>; rel="next"`;
  }
  return { status: 200, body: slice, headers };
}

export function createRoutes(ctx: RouteContext): Record<string, Handler> {
  const { state, render } = ctx;
  const inRepo = (handler: (repository: Repository, call: Call) => Promise<Reply> | Reply): Handler => (call) => {
    const repository = ctx.repo(call.params.owner!, call.params.repo!);
    return repository ? handler(repository, call) : notFound;
  };
  const onIssue = (handler: (repository: Repository, issue: Issue, call: Call) => Promise<Reply> | Reply): Handler =>
    inRepo((repository, call) => {
      const issue = repository.issues.get(Number(call.params.issue_number ?? call.params.pull_number));
      return issue ? handler(repository, issue, call) : notFound;
    });
  const onPull = (handler: (repository: Repository, issue: Issue, call: Call) => Promise<Reply> | Reply): Handler =>
    onIssue((repository, issue, call) => (issue.pull ? handler(repository, issue, call) : notFound));
  /** A ref as GitHub takes it: a commit's sha, or a branch whose tip it means. */
  const shaOf = async (repository: Repository, ref: string) => (/^[0-9a-f]{40}$/.test(ref) ? ref : (await ctx.bare(repository).sha(ref)) ?? ref);
  /** GitHub says `pull_request.labeled` for a PR's labels, `issues.labeled` for an issue's. */
  const labelEvent = (repository: Repository, issue: Issue, action: string, label: string, actor: User) => {
    const payload = { action, label: render.label(repository, label) };
    if (issue.pull) ctx.emit('pull_request', repository, actor, { ...payload, number: issue.number, pull_request: render.pull(repository, issue) });
    else ctx.emit('issues', repository, actor, { ...payload, issue: render.issue(repository, issue) });
  };

  return {
    'apps/get-authenticated': () => ({ status: 200, body: render.integration() }),

    'apps/list-installations': () => ({ status: 200, body: [render.installation(ctx.installationId)] }),

    'apps/create-installation-access-token': (call) => {
      if (Number(call.params.installation_id) !== ctx.installationId) return notFound;
      const asked = (call.body ?? {}) as { repositories?: string[]; permissions?: { contents?: 'read' | 'write' } };
      const { token, expiresAt } = ctx.issueToken({
        ...(asked.repositories ? { repositories: asked.repositories } : {}),
        ...(asked.permissions?.contents ? { contents: asked.permissions.contents } : {}),
      });
      const permissions = asked.permissions ? { ...asked.permissions, metadata: 'read' } : render.integration().permissions;
      return {
        status: 201,
        body: { token, expires_at: expiresAt, permissions, repository_selection: asked.repositories ? 'selected' : 'all' },
      };
    },

    'apps/revoke-installation-access-token': (call) => {
      const [, token = ''] = String(call.headers.authorization ?? '').split(/\s+/);
      ctx.revokeToken(token);
      return { status: 204 };
    },

    'apps/list-repos-accessible-to-installation': (call) => {
      const all = [...state.repositories.values()].map((r) => render.repository(r));
      const { body, headers } = page(all, call);
      return { status: 200, body: { total_count: all.length, repository_selection: 'all', repositories: body }, headers: headers! };
    },

    // as GitHub: every ref whose name starts with `refs/<ref>`, sorted by name
    'git/list-matching-refs': inRepo(async (repository, call) => {
      const prefix = `refs/${call.params.ref ?? ''}`;
      const fullName = `${repository.owner.login}/${repository.name}`;
      const refs = [...(await ctx.bare(repository).branches())].map(([branch, sha]) => ({ ref: `refs/heads/${branch}`, sha }))
        .filter(({ ref }) => ref.startsWith(prefix)).sort((a, b) => a.ref.localeCompare(b.ref));
      return {
        status: 200,
        body: refs.map(({ ref, sha }) => ({
          ref, node_id: Buffer.from(`${fullName}:${ref}`).toString('base64'), url: `${call.url.origin}/api/v3/repos/${fullName}/git/${ref}`,
          object: { type: 'commit', sha, url: `${call.url.origin}/api/v3/repos/${fullName}/git/commits/${sha}` },
        })),
      };
    }),

    'repos/get-content': inRepo(async (repository, call) => {
      const ref = typeof call.query.ref === 'string' ? call.query.ref : repository.defaultBranch;
      const file = call.params.path!;
      const content = await ctx.bare(repository).readFile(ref, file);
      if (content === undefined) return notFound;
      const accept = String(call.headers.accept ?? '');
      if (accept.includes('raw')) return { status: 200, raw: content, headers: { 'content-type': 'text/plain; charset=utf-8' } };
      const fullName = `${repository.owner.login}/${repository.name}`;
      const url = `${call.url.origin}/api/v3/repos/${fullName}/contents/${file}`;
      const html = `${call.url.origin}/${fullName}/blob/${ref}/${file}`;
      return {
        status: 200,
        body: {
          type: 'file', encoding: 'base64', size: content.length, name: file.split('/').at(-1), path: file,
          content: content.toString('base64'), sha: 'blob', url, git_url: null, html_url: html, download_url: null,
          _links: { self: url, git: null, html },
        },
      };
    }),

    'repos/get-collaborator-permission-level': inRepo((repository, call) => {
      const user = state.users.get(call.params.username!);
      if (!user) return notFound;
      const permission = repository.permissions.get(user.login) ?? 'none';
      return {
        status: 200,
        body: { permission, role_name: permission, user: { ...render.user(user), permissions: rolePermissions(permission), role_name: permission } },
      };
    }),

    'users/get-by-username': (call) => {
      const user = state.users.get(call.params.username!);
      return user ? { status: 200, body: render.profile(user) } : notFound;
    },

    'issues/get': onIssue((repository, issue) => ({ status: 200, body: render.issue(repository, issue) })),

    'issues/list-for-repo': inRepo((repository, call) => {
      const wantedState = call.query.state ?? 'open';
      const labels = typeof call.query.labels === 'string' ? call.query.labels.split(',').map((l) => l.trim()).filter(Boolean) : [];
      const issues = [...repository.issues.values()]
        .filter((i) => wantedState === 'all' || i.state === wantedState)
        .filter((i) => labels.every((l) => i.labels.includes(l)))
        .sort((a, b) => b.number - a.number)
        .map((i) => render.issue(repository, i));
      return page(issues, call);
    }),

    'issues/list-dependencies-blocked-by': onIssue((repository, issue, call) =>
      page((issue.blockedBy ?? []).map((n) => repository.issues.get(n)).filter((i) => i !== undefined)
        .map((i) => render.issue(repository, i)), call)),

    'issues/list-events': onIssue((repository, issue, call) =>
      page(repository.events.filter((e) => e.issueNumber === issue.number).map((e) => render.event(repository, e)), call)),

    'issues/add-labels': onIssue((repository, issue, call) => {
      const labels: string[] = Array.isArray(call.body) ? call.body : Array.isArray(call.body?.labels) ? call.body.labels : [];
      for (const label of labels.map((l) => (typeof l === 'string' ? l : (l as { name: string }).name))) {
        if (state.addLabel(repository, issue, label, call.actor)) labelEvent(repository, issue, 'labeled', label, call.actor);
      }
      return { status: 200, body: issue.labels.map((l) => render.label(repository, l)) };
    }),

    'issues/remove-label': onIssue((repository, issue, call) => {
      const label = call.params.name!;
      if (!state.removeLabel(repository, issue, label, call.actor)) {
        return { status: 404, body: { message: 'Label does not exist', documentation_url: 'https://docs.github.com/rest' } };
      }
      labelEvent(repository, issue, 'unlabeled', label, call.actor);
      return { status: 200, body: issue.labels.map((l) => render.label(repository, l)) };
    }),

    'issues/list-comments': onIssue((repository, issue, call) =>
      page(state.commentsOf(repository, issue.number).map((c) => render.comment(repository, c)), call)),

    'issues/create-comment': onIssue((repository, issue, call) => {
      const now = state.now();
      const comment = {
        id: state.nextId(), issueNumber: issue.number, body: String(call.body.body), user: call.actor, viaApp: call.viaApp, createdAt: now, updatedAt: now,
      };
      repository.comments.set(comment.id, comment);
      ctx.emit('issue_comment', repository, call.actor, { action: 'created', issue: render.issue(repository, issue), comment: render.comment(repository, comment) });
      return { status: 201, body: render.comment(repository, comment) };
    }),

    'issues/update-comment': inRepo((repository, call) => {
      const comment = repository.comments.get(Number(call.params.comment_id));
      if (!comment) return notFound;
      const from = comment.body;
      comment.body = String(call.body.body);
      comment.updatedAt = state.now();
      const issue = repository.issues.get(comment.issueNumber)!;
      ctx.emit('issue_comment', repository, call.actor, {
        action: 'edited', changes: { body: { from } }, issue: render.issue(repository, issue), comment: render.comment(repository, comment),
      });
      return { status: 200, body: render.comment(repository, comment) };
    }),

    'issues/update': onIssue((repository, issue, call) => {
      if (typeof call.body.title === 'string') issue.title = call.body.title;
      if (typeof call.body.body === 'string') issue.body = call.body.body;
      if (call.body.state === 'closed' && issue.state === 'open') {
        state.close(repository, issue, call.actor);
        ctx.emit('issues', repository, call.actor, { action: 'closed', issue: render.issue(repository, issue) });
      }
      return { status: 200, body: render.issue(repository, issue) };
    }),

    'pulls/list': inRepo((repository, call) => {
      const wantedState = call.query.state ?? 'open';
      const pulls = state.pulls(repository)
        .filter((i) => wantedState === 'all' || i.state === wantedState)
        .filter((i) => call.query.base === undefined || i.pull!.base === call.query.base)
        .filter((i) => call.query.head === undefined || `${repository.owner.login}:${i.pull!.head}` === call.query.head)
        .sort((a, b) => b.number - a.number)
        .map((i) => render.pullSimple(repository, i));
      return page(pulls, call);
    }),

    'pulls/get': onPull((repository, issue) => ({ status: 200, body: render.pull(repository, issue) })),

    'pulls/create': inRepo(async (repository, call) => {
      const { title, body = '', head, base, draft = false } = call.body as { title?: string; body?: string; head: string; base: string; draft?: boolean };
      const headRef = head.includes(':') ? head.slice(head.indexOf(':') + 1) : head;
      const branches = await ctx.bare(repository).branches();
      const headSha = branches.get(headRef);
      const baseSha = branches.get(base);
      if (!headSha) return validationFailed(`Head ref ${headRef} does not exist`);
      if (!baseSha) return validationFailed(`Base ref ${base} does not exist`);
      if (state.pulls(repository).some((i) => i.state === 'open' && i.pull!.head === headRef && i.pull!.base === base)) {
        return validationFailed(`A pull request already exists for ${repository.owner.login}:${headRef}.`);
      }
      if (headSha === baseSha) return validationFailed(`No commits between ${base} and ${headRef}`);
      const now = state.now();
      const issue: Issue = {
        number: state.nextNumber(repository), title: title ?? headRef, body, state: 'open', labels: [], user: call.actor,
        createdAt: now, updatedAt: now, closedAt: null,
        pull: { number: 0, head: headRef, base, headSha, baseSha, draft, merged: false, mergedAt: null, mergeCommitSha: null, mergedBy: null },
      };
      issue.pull!.number = issue.number;
      repository.issues.set(issue.number, issue);
      ctx.emit('pull_request', repository, call.actor, { action: 'opened', number: issue.number, pull_request: render.pull(repository, issue) });
      return { status: 201, body: render.pull(repository, issue) };
    }),

    'pulls/update': onPull((repository, issue, call) => {
      if (typeof call.body.title === 'string') issue.title = call.body.title;
      if (typeof call.body.body === 'string') issue.body = call.body.body;
      issue.updatedAt = state.now();
      ctx.emit('pull_request', repository, call.actor, { action: 'edited', number: issue.number, changes: {}, pull_request: render.pull(repository, issue) });
      if (call.body.state === 'closed' && issue.state === 'open') {
        state.close(repository, issue, call.actor);
        ctx.emit('pull_request', repository, call.actor, { action: 'closed', number: issue.number, pull_request: render.pull(repository, issue) });
      }
      return { status: 200, body: render.pull(repository, issue) };
    }),

    'pulls/list-reviews': onPull((repository, issue, call) =>
      page(repository.reviews.filter((r) => r.pullNumber === issue.number).map((r) => render.review(repository, r)), call)),

    'pulls/list-comments-for-review': onPull((repository, issue, call) => {
      const review = repository.reviews.find((r) => r.pullNumber === issue.number && r.id === Number(call.params.review_id));
      if (!review) return notFound;
      return page(review.comments.map((_, index) => render.reviewComment(repository, review, index)), call);
    }),

    'pulls/merge': onPull(async (repository, issue, call) => {
      const pull = issue.pull!;
      const notMergeable = { status: 405, body: { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest' } };
      if (issue.state !== 'open') return notMergeable;
      if (ctx.requiresMergeQueue(repository, pull.base)) {
        return { status: 405, body: { message: 'Changes must be made through the merge queue', documentation_url: 'https://docs.github.com/rest' } };
      }
      if (call.body?.sha && call.body.sha !== pull.headSha) {
        return { status: 409, body: { message: 'Head branch was modified. Review and try the merge again.', documentation_url: 'https://docs.github.com/rest' } };
      }
      const method = (call.body?.merge_method ?? 'merge') as 'merge' | 'squash' | 'rebase';
      const message = method === 'squash'
        ? `${call.body?.commit_title ?? `${issue.title} (#${issue.number})`}\n\n${call.body?.commit_message ?? ''}`.trim()
        : `Merge pull request #${issue.number} from ${repository.owner.login}/${pull.head}\n\n${issue.title}`;
      const bare = ctx.bare(repository);
      const before = await bare.sha(pull.base);
      const merged = await bare.merge(pull.base, pull.headSha, method, message, { name: call.actor.login, email: `${call.actor.id}+${call.actor.login}@users.noreply.github.com` });
      if (merged.kind !== 'merged') return notMergeable;
      const now = state.now();
      Object.assign(pull, { merged: true, mergedAt: now, mergeCommitSha: merged.sha, mergedBy: call.actor });
      state.close(repository, issue, call.actor);
      ctx.emit('pull_request', repository, call.actor, { action: 'closed', number: issue.number, pull_request: render.pull(repository, issue) });
      ctx.noteBranchMoves(repository, [{ branch: pull.base, before: before!, after: merged.sha }], call.actor);
      if (pull.base === repository.defaultBranch) {
        for (const match of issue.body.matchAll(/\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)\b/gi)) {
          const closed = repository.issues.get(Number(match[1]));
          if (!closed || closed.pull || closed.state !== 'open') continue;
          state.close(repository, closed, call.actor);
          ctx.emit('issues', repository, call.actor, { action: 'closed', issue: render.issue(repository, closed) });
        }
      }
      return { status: 200, body: { sha: merged.sha, merged: true, message: 'Pull Request successfully merged' } };
    }),

    'git/delete-ref': inRepo(async (repository, call) => {
      const ref = call.params.ref!;
      if (!ref.startsWith('heads/')) return validationFailed('Reference does not exist');
      const bare = ctx.bare(repository);
      const branch = ref.slice('heads/'.length);
      const before = await bare.sha(branch);
      if (!before || !(await bare.deleteBranch(branch))) return { status: 422, body: { message: 'Reference does not exist', documentation_url: 'https://docs.github.com/rest' } };
      ctx.noteBranchMoves(repository, [{ branch, before, after: '0'.repeat(40) }], call.actor);
      return { status: 204 };
    }),

    'checks/create': inRepo((repository, call) => {
      const now = state.now();
      const b = call.body as {
        name: string; head_sha: string; status?: string; conclusion?: string; details_url?: string; output?: { title?: string; summary?: string };
      };
      const completed = b.status === 'completed' || b.conclusion !== undefined;
      const run = {
        id: state.nextId(), headSha: b.head_sha, name: b.name, status: completed ? 'completed' : b.status ?? 'queued',
        conclusion: b.conclusion ?? null, title: b.output?.title ?? '', summary: b.output?.summary ?? '', detailsUrl: b.details_url ?? null, startedAt: now, completedAt: completed ? now : null,
      };
      repository.checkRuns.push(run);
      return { status: 201, body: render.checkRun(repository, run) };
    }),

    'checks/list-for-ref': inRepo(async (repository, call) => {
      const sha = await shaOf(repository, call.params.ref!);
      const runs = repository.checkRuns.filter((r) => r.headSha === sha).reverse();
      const latest = [...new Map(runs.map((r) => [r.name, r])).values()];
      return { status: 200, body: { total_count: latest.length, check_runs: latest.map((r) => render.checkRun(repository, r)) } };
    }),

    'repos/get-combined-status-for-ref': inRepo(async (repository, call) => {
      const sha = await shaOf(repository, call.params.ref!);
      return { status: 200, body: render.combinedStatus(repository, sha, repository.statuses.filter((s) => s.sha === sha)) };
    }),
  };
}

function rolePermissions(permission: string) {
  const rank = ['none', 'read', 'triage', 'write', 'maintain', 'admin'].indexOf(permission);
  return { pull: rank >= 1, triage: rank >= 2, push: rank >= 3, maintain: rank >= 4, admin: rank >= 5 };
}
