/**
 * The local GitHub's state in the JSON shapes of GitHub's REST API (and of webhook payloads, which use
 * the same objects). Full shapes, checked against the OpenAPI description: the app must not get to
 * rely on a field the real API would not send, nor miss one it would.
 */
import type { CheckRun, Comment, CommitStatus, GitHubState, Issue, IssueEvent, Repository, Review, User } from './state.js';

export interface AppIdentity {
  id: number;
  slug: string;
  name: string;
  owner: User;
}

export class Renderer {
  constructor(
    private readonly state: GitHubState,
    /** e.g. `http://127.0.0.1:3000` */
    private readonly webUrl: string,
    private readonly app: AppIdentity,
  ) {}

  private get apiUrl(): string {
    return `${this.webUrl}/api/v3`;
  }

  user(user: User) {
    const url = `${this.apiUrl}/users/${encodeURIComponent(user.login)}`;
    return {
      login: user.login, id: user.id, node_id: nodeId('U', user.id), avatar_url: `${this.webUrl}/avatars/${user.id}`, gravatar_id: '',
      url, html_url: `${this.webUrl}/${encodeURIComponent(user.login)}`, followers_url: `${url}/followers`, following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`, starred_url: `${url}/starred{/owner}{/repo}`, subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`, repos_url: `${url}/repos`, events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`, type: user.type, site_admin: false, user_view_type: 'public',
    };
  }

  /** `GET /users/{username}`: the public profile. */
  profile(user: User) {
    const stamp = '2020-01-01T00:00:00Z';
    return {
      ...this.user(user), name: null, company: null, blog: '', location: null, email: null, hireable: null, bio: null,
      twitter_username: null, public_repos: 0, public_gists: 0, followers: 0, following: 0, created_at: stamp, updated_at: stamp,
    };
  }

  cloneUrl(repository: Repository): string {
    return `${this.webUrl}/${repository.owner.login}/${repository.name}.git`;
  }

  repository(repository: Repository) {
    const fullName = `${repository.owner.login}/${repository.name}`;
    const url = `${this.apiUrl}/repos/${fullName}`;
    const stamp = '2020-01-01T00:00:00Z';
    return {
      id: repository.id, node_id: nodeId('R', repository.id), name: repository.name, full_name: fullName,
      owner: this.user(repository.owner), private: true, html_url: `${this.webUrl}/${fullName}`, description: null, fork: false, url,
      archive_url: `${url}/{archive_format}{/ref}`, assignees_url: `${url}/assignees{/user}`, blobs_url: `${url}/git/blobs{/sha}`,
      branches_url: `${url}/branches{/branch}`, collaborators_url: `${url}/collaborators{/collaborator}`,
      comments_url: `${url}/comments{/number}`, commits_url: `${url}/commits{/sha}`, compare_url: `${url}/compare/{base}...{head}`,
      contents_url: `${url}/contents/{+path}`, contributors_url: `${url}/contributors`, deployments_url: `${url}/deployments`,
      downloads_url: `${url}/downloads`, events_url: `${url}/events`, forks_url: `${url}/forks`,
      git_commits_url: `${url}/git/commits{/sha}`, git_refs_url: `${url}/git/refs{/sha}`, git_tags_url: `${url}/git/tags{/sha}`,
      git_url: `git://${new URL(this.webUrl).host}/${fullName}.git`, issue_comment_url: `${url}/issues/comments{/number}`,
      issue_events_url: `${url}/issues/events{/number}`, issues_url: `${url}/issues{/number}`, keys_url: `${url}/keys{/key_id}`,
      labels_url: `${url}/labels{/name}`, languages_url: `${url}/languages`, merges_url: `${url}/merges`,
      milestones_url: `${url}/milestones{/number}`, notifications_url: `${url}/notifications{?since,all,participating}`,
      pulls_url: `${url}/pulls{/number}`, releases_url: `${url}/releases{/id}`, ssh_url: `git@${new URL(this.webUrl).host}:${fullName}.git`,
      stargazers_url: `${url}/stargazers`, statuses_url: `${url}/statuses/{sha}`, subscribers_url: `${url}/subscribers`,
      subscription_url: `${url}/subscription`, tags_url: `${url}/tags`, teams_url: `${url}/teams`, trees_url: `${url}/git/trees{/sha}`,
      clone_url: this.cloneUrl(repository), mirror_url: null, hooks_url: `${url}/hooks`, svn_url: `${this.webUrl}/${fullName}`,
      homepage: null, language: null, forks_count: 0, stargazers_count: 0, watchers_count: 0, size: 1, default_branch: repository.defaultBranch,
      open_issues_count: [...repository.issues.values()].filter((i) => i.state === 'open').length, is_template: false, topics: [],
      has_issues: true, has_projects: false, has_wiki: false, has_pages: false, has_downloads: false, has_discussions: false,
      archived: false, disabled: false, visibility: 'private', pushed_at: stamp, created_at: stamp, updated_at: stamp,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      allow_forking: false, web_commit_signoff_required: false, forks: 0, open_issues: 0, watchers: 0, license: null,
    };
  }

  label(repository: Repository, name: string) {
    const id = hashId(name);
    return {
      id, node_id: nodeId('LA', id), url: `${this.apiUrl}/repos/${repository.owner.login}/${repository.name}/labels/${encodeURIComponent(name)}`,
      name, description: '', color: 'ededed', default: false,
    };
  }

  issue(repository: Repository, issue: Issue) {
    const fullName = `${repository.owner.login}/${repository.name}`;
    const url = `${this.apiUrl}/repos/${fullName}/issues/${issue.number}`;
    const kind = issue.pull ? 'pull' : 'issues';
    return {
      id: issue.number + repository.id * 100_000, node_id: nodeId('I', issue.number), url, repository_url: `${this.apiUrl}/repos/${fullName}`,
      labels_url: `${url}/labels{/name}`, comments_url: `${url}/comments`, events_url: `${url}/events`,
      html_url: `${this.webUrl}/${fullName}/${kind}/${issue.number}`, number: issue.number, state: issue.state,
      state_reason: issue.state === 'closed' ? 'completed' : null, title: issue.title, body: issue.body, user: this.user(issue.user),
      labels: issue.labels.map((l) => this.label(repository, l)), assignee: null, assignees: [], milestone: null, locked: false,
      active_lock_reason: null, comments: this.state.commentsOf(repository, issue.number).length,
      ...(issue.pull ? {
        pull_request: {
          url: `${this.apiUrl}/repos/${fullName}/pulls/${issue.number}`, html_url: `${this.webUrl}/${fullName}/pull/${issue.number}`,
          diff_url: `${this.webUrl}/${fullName}/pull/${issue.number}.diff`, patch_url: `${this.webUrl}/${fullName}/pull/${issue.number}.patch`,
          merged_at: issue.pull.mergedAt,
        },
      } : {}),
      closed_at: issue.closedAt, created_at: issue.createdAt, updated_at: issue.updatedAt, closed_by: null,
      author_association: 'MEMBER', draft: issue.pull?.draft ?? false, reactions: reactions(url), timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      ...(issue.pull ? {} : { issue_dependencies_summary: this.dependencies(repository, issue) }),
    };
  }

  dependencies(repository: Repository, issue: Issue) {
    const blockers = (issue.blockedBy ?? []).map((n) => repository.issues.get(n)).filter((i) => i !== undefined);
    const blocking = [...repository.issues.values()].filter((i) => i.blockedBy?.includes(issue.number));
    return {
      blocked_by: blockers.filter((i) => i.state === 'open').length, total_blocked_by: blockers.length,
      blocking: blocking.filter((i) => i.state === 'open').length, total_blocking: blocking.length,
    };
  }

  pull(repository: Repository, issue: Issue) {
    const pull = issue.pull!;
    const fullName = `${repository.owner.login}/${repository.name}`;
    const url = `${this.apiUrl}/repos/${fullName}/pulls/${issue.number}`;
    const html = `${this.webUrl}/${fullName}/pull/${issue.number}`;
    const issueUrl = `${this.apiUrl}/repos/${fullName}/issues/${issue.number}`;
    // a fork's head shows the fork: another repository, in its owner's account
    const side = (ref: string, sha: string, fork?: User) => ({
      label: `${(fork ?? repository.owner).login}:${ref}`, ref, sha, user: this.user(fork ?? repository.owner), repo: { ...this.repository(repository),
        ...(fork ? { id: repository.id + 1, node_id: nodeId('R', repository.id + 1), fork: true, owner: this.user(fork), full_name: `${fork.login}/${repository.name}` } : {}) },
    });
    const link = (href: string) => ({ href });
    return {
      url, id: issue.number + repository.id * 100_000, node_id: nodeId('PR', issue.number), html_url: html, diff_url: `${html}.diff`,
      patch_url: `${html}.patch`, issue_url: issueUrl, commits_url: `${url}/commits`, review_comments_url: `${url}/comments`,
      review_comment_url: `${this.apiUrl}/repos/${fullName}/pulls/comments{/number}`, comments_url: `${issueUrl}/comments`,
      statuses_url: `${this.apiUrl}/repos/${fullName}/statuses/${pull.headSha}`, number: issue.number, state: issue.state,
      locked: false, title: issue.title, user: this.user(issue.user), body: issue.body,
      labels: issue.labels.map((l) => this.label(repository, l)), milestone: null, active_lock_reason: null,
      created_at: issue.createdAt, updated_at: issue.updatedAt, closed_at: issue.closedAt, merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha, assignee: null, assignees: [], requested_reviewers: [], requested_teams: [],
      head: side(pull.head, pull.headSha, pull.fork ? this.state.user(pull.fork) : undefined), base: side(pull.base, pull.baseSha),
      _links: {
        self: link(url), html: link(html), issue: link(issueUrl), comments: link(`${issueUrl}/comments`),
        review_comments: link(`${url}/comments`), review_comment: link(`${this.apiUrl}/repos/${fullName}/pulls/comments{/number}`),
        commits: link(`${url}/commits`), statuses: link(`${this.apiUrl}/repos/${fullName}/statuses/${pull.headSha}`),
      },
      author_association: 'NONE', auto_merge: null, draft: pull.draft, merged: pull.merged,
      mergeable: issue.state === 'open' ? true : null, rebaseable: issue.state === 'open' ? true : null,
      mergeable_state: issue.state === 'open' ? 'clean' : 'unknown', merged_by: pull.mergedBy ? this.user(pull.mergedBy) : null,
      comments: this.state.commentsOf(repository, issue.number).length, review_comments: 0, maintainer_can_modify: false,
      commits: 1, additions: 1, deletions: 0, changed_files: 1,
    };
  }

  /** The list item shape (`pull-request-simple`): the detail fields are left out. */
  pullSimple(repository: Repository, issue: Issue) {
    const {
      merged: _merged, mergeable: _m, rebaseable: _r, mergeable_state: _s, merged_by: _b, comments: _c, review_comments: _rc,
      maintainer_can_modify: _mcm, commits: _co, additions: _a, deletions: _d, changed_files: _f, ...simple
    } = this.pull(repository, issue);
    return simple;
  }

  comment(repository: Repository, comment: Comment) {
    const fullName = `${repository.owner.login}/${repository.name}`;
    const url = `${this.apiUrl}/repos/${fullName}/issues/comments/${comment.id}`;
    const issue = repository.issues.get(comment.issueNumber);
    return {
      id: comment.id, node_id: nodeId('IC', comment.id), url,
      html_url: `${this.webUrl}/${fullName}/${issue?.pull ? 'pull' : 'issues'}/${comment.issueNumber}#issuecomment-${comment.id}`,
      body: comment.body, user: this.user(comment.user), created_at: comment.createdAt, updated_at: comment.updatedAt,
      issue_url: `${this.apiUrl}/repos/${fullName}/issues/${comment.issueNumber}`, author_association: comment.viaApp ? 'NONE' : 'MEMBER',
      performed_via_github_app: comment.viaApp ? this.integration() : comment.otherApp ? this.otherIntegration(comment.otherApp) : null,
      reactions: reactions(url),
    };
  }

  integration() {
    const stamp = '2020-01-01T00:00:00Z';
    return {
      id: this.app.id, slug: this.app.slug, node_id: nodeId('A', this.app.id), client_id: `Iv1.${this.app.id}`,
      owner: this.user(this.app.owner), name: this.app.name, description: 'Runs coding agents in parallel',
      external_url: this.webUrl, html_url: `${this.webUrl}/apps/${this.app.slug}`, created_at: stamp, updated_at: stamp,
      permissions: { contents: 'write', issues: 'write', pull_requests: 'write', checks: 'write', statuses: 'read', members: 'read', metadata: 'read' },
      events: ['issues', 'issue_comment', 'pull_request', 'pull_request_review', 'check_suite', 'check_run', 'status', 'push'],
      installations_count: 1,
    };
  }

  /** Another app installed on the repository */
  otherIntegration({ id, slug }: { id: number; slug: string }) {
    return {
      ...this.integration(), id, slug, name: slug, node_id: nodeId('A', id), client_id: `Iv1.${id}`, html_url: `${this.webUrl}/apps/${slug}`,
    };
  }

  installation(id: number) {
    const app = this.integration();
    return {
      // the organisation's full account (the local validator does not take the plain simple-user branch here)
      id, account: { ...this.user(this.app.owner), name: this.app.owner.login, slug: this.app.owner.login, created_at: app.created_at, updated_at: app.updated_at },
      repository_selection: 'all', access_tokens_url: `${this.apiUrl}/app/installations/${id}/access_tokens`,
      repositories_url: `${this.apiUrl}/installation/repositories`, html_url: `${this.webUrl}/settings/installations/${id}`,
      app_id: app.id, target_id: this.app.owner.id, target_type: 'Organization', permissions: app.permissions, events: app.events,
      created_at: app.created_at, updated_at: app.updated_at, single_file_name: null, app_slug: app.slug, suspended_by: null, suspended_at: null,
    };
  }

  event(repository: Repository, event: IssueEvent) {
    const url = `${this.apiUrl}/repos/${repository.owner.login}/${repository.name}/issues/events/${event.id}`;
    const base = {
      id: event.id, node_id: nodeId('E', event.id), url, actor: this.user(event.actor), event: event.event,
      commit_id: null, commit_url: null, created_at: event.createdAt, performed_via_github_app: null,
    };
    return event.label ? { ...base, label: { name: event.label, color: 'ededed' } } : base;
  }

  review(repository: Repository, review: Review) {
    const fullName = `${repository.owner.login}/${repository.name}`;
    const html = `${this.webUrl}/${fullName}/pull/${review.pullNumber}#pullrequestreview-${review.id}`;
    return {
      id: review.id, node_id: nodeId('PRR', review.id), user: this.user(review.user), body: review.body, state: review.state,
      html_url: html, pull_request_url: `${this.apiUrl}/repos/${fullName}/pulls/${review.pullNumber}`,
      _links: { html: { href: html }, pull_request: { href: `${this.apiUrl}/repos/${fullName}/pulls/${review.pullNumber}` } },
      submitted_at: review.submittedAt, commit_id: review.commitId, author_association: 'MEMBER',
    };
  }

  reviewComment(repository: Repository, review: Review, index: number) {
    const c = review.comments[index]!;
    const fullName = `${repository.owner.login}/${repository.name}`;
    const id = review.id * 100 + index;
    const url = `${this.apiUrl}/repos/${fullName}/pulls/comments/${id}`;
    const html = `${this.webUrl}/${fullName}/pull/${review.pullNumber}#discussion_r${id}`;
    const pullUrl = `${this.apiUrl}/repos/${fullName}/pulls/${review.pullNumber}`;
    return {
      url, pull_request_review_id: review.id, id, node_id: nodeId('PRRC', id), diff_hunk: c.diffHunk, path: c.path, position: 1,
      original_position: 1, commit_id: review.commitId, original_commit_id: review.commitId, user: this.user(review.user), body: c.body,
      created_at: review.submittedAt, updated_at: review.submittedAt, html_url: html, pull_request_url: pullUrl,
      author_association: 'MEMBER', line: c.line, original_line: c.line, side: 'RIGHT',
      _links: { self: { href: url }, html: { href: html }, pull_request: { href: pullUrl } },
    };
  }

  checkRun(repository: Repository, run: CheckRun) {
    const fullName = `${repository.owner.login}/${repository.name}`;
    const url = `${this.apiUrl}/repos/${fullName}/check-runs/${run.id}`;
    return {
      id: run.id, head_sha: run.headSha, node_id: nodeId('CR', run.id), external_id: '', url,
      html_url: `${this.webUrl}/${fullName}/runs/${run.id}`, details_url: run.detailsUrl, status: run.status, conclusion: run.conclusion,
      started_at: run.startedAt, completed_at: run.completedAt,
      output: { title: run.title, summary: run.summary, text: null, annotations_count: run.annotations?.length ?? 0, annotations_url: `${url}/annotations` },
      name: run.name, check_suite: { id: run.id }, pull_requests: [], app: run.actions ? this.otherIntegration({ id: 15368, slug: 'github-actions' }) : this.integration(),
    };
  }

  combinedStatus(repository: Repository, sha: string, statuses: CommitStatus[]) {
    const fullName = `${repository.owner.login}/${repository.name}`;
    const latest = new Map<string, CommitStatus>();
    for (const s of statuses) latest.set(s.context, s);
    const all = [...latest.values()];
    const state = all.some((s) => s.state === 'failure' || s.state === 'error') ? 'failure'
      : all.length === 0 || all.some((s) => s.state === 'pending') ? 'pending' : 'success';
    return {
      state, sha, total_count: all.length, repository: this.minimalRepository(repository),
      commit_url: `${this.apiUrl}/repos/${fullName}/commits/${sha}`, url: `${this.apiUrl}/repos/${fullName}/commits/${sha}/status`,
      statuses: all.map((s) => ({
        url: `${this.apiUrl}/repos/${fullName}/statuses/${sha}`, avatar_url: null, id: s.id, node_id: nodeId('SC', s.id),
        state: s.state, description: null, target_url: null, context: s.context, created_at: s.createdAt, updated_at: s.createdAt,
      })),
    };
  }

  minimalRepository(repository: Repository) {
    const {
      homepage: _h, language: _l, forks_count: _fc, stargazers_count: _sc, watchers_count: _wc, size: _s, pushed_at: _p, created_at: _c,
      updated_at: _u, ...minimal
    } = this.repository(repository);
    return minimal;
  }
}

export function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}_${id}`).toString('base64');
}

function hashId(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

function reactions(url: string) {
  return {
    url: `${url}/reactions`, total_count: 0, '+1': 0, '-1': 0, laugh: 0, confused: 0, heart: 0, hooray: 0, eyes: 0, rocket: 0,
  };
}
