import { describe, expect, it } from '@jest/globals';
import { openApiValidator, type RequestToCheck } from './openapi-validator.js';

const HEAD_SHA = 'a'.repeat(40);

function request(method: string, path: string, query: RequestToCheck['query'] = {}, body?: unknown): RequestToCheck {
  return { method, path, query, body };
}

function simpleUser(login: string, id: number) {
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `https://avatars.example.com/u/${id}`,
    gravatar_id: '',
    url: `https://api.github.com/users/${login}`,
    html_url: `https://github.com/${login}`,
    followers_url: `https://api.github.com/users/${login}/followers`,
    following_url: `https://api.github.com/users/${login}/following{/other_user}`,
    gists_url: `https://api.github.com/users/${login}/gists{/gist_id}`,
    starred_url: `https://api.github.com/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `https://api.github.com/users/${login}/subscriptions`,
    organizations_url: `https://api.github.com/users/${login}/orgs`,
    repos_url: `https://api.github.com/users/${login}/repos`,
    events_url: `https://api.github.com/users/${login}/events{/privacy}`,
    received_events_url: `https://api.github.com/users/${login}/received_events`,
    type: 'User',
    site_admin: false,
  };
}

const issueComment = {
  id: 7,
  node_id: 'IC_7',
  url: 'https://api.github.com/repos/o/r/issues/comments/7',
  html_url: 'https://github.com/o/r/issues/1#issuecomment-7',
  issue_url: 'https://api.github.com/repos/o/r/issues/1',
  body: 'Mapped to #2',
  user: simpleUser('alice', 1),
  created_at: '2024-05-01T10:00:00Z',
  updated_at: '2024-05-01T10:00:00Z',
  author_association: 'MEMBER',
};

/** What the app sends to the operations that take a body. */
const BODIES: Record<string, unknown> = {
  'issues/update': { state: 'closed', state_reason: 'completed' },
  'issues/add-labels': { labels: ['agent:conflict'] },
  'issues/create-comment': { body: 'Mapped to #2' },
  'issues/update-comment': { body: 'Mapped to #2, merged' },
  'pulls/create': { title: 'Fix #1', head: 'agent/issue-1-x', base: 'main', body: 'Closes #1', maintainer_can_modify: false },
  'pulls/update': { title: 'Fix #1', body: 'Closes #1', state: 'closed' },
  'pulls/merge': { sha: HEAD_SHA, merge_method: 'squash' },
  'checks/create': {
    name: 'agent-mapreduce/reduce',
    head_sha: HEAD_SHA,
    status: 'completed',
    conclusion: 'success',
    output: { title: 'Reduced', summary: '2 PRs merged' },
  },
};

describe('openApiValidator: matching the operations the app calls', () => {
  const validator = openApiValidator();

  it.each([
    ['apps/get-authenticated', 'GET', '/app', {}, {}],
    ['apps/create-installation-access-token', 'POST', '/app/installations/42/access_tokens', {}, { installation_id: '42' }],
    ['apps/list-installations', 'GET', '/app/installations', { per_page: '100' }, {}],
    ['apps/list-repos-accessible-to-installation', 'GET', '/installation/repositories', { per_page: '100' }, {}],
    ['repos/get-content', 'GET', '/repos/o/r/contents/.github%2Fagent-mapreduce.yml', {}, { path: '.github/agent-mapreduce.yml' }],
    ['repos/get-content', 'GET', '/repos/o/r/contents/.github/agent-mapreduce.yml', { ref: 'main' }, { path: '.github/agent-mapreduce.yml' }],
    ['repos/get-collaborator-permission-level', 'GET', '/repos/o/r/collaborators/alice/permission', {}, { username: 'alice' }],
    ['users/get-by-username', 'GET', '/users/alice', {}, { username: 'alice' }],
    ['issues/get', 'GET', '/repos/o/r/issues/1', {}, { issue_number: '1' }],
    ['issues/update', 'PATCH', '/repos/o/r/issues/1', {}, { issue_number: '1' }],
    ['issues/list-for-repo', 'GET', '/repos/o/r/issues', { labels: 'agent', state: 'open', per_page: '100' }, {}],
    ['issues/list-events', 'GET', '/repos/o/r/issues/1/events', { per_page: '100', page: '2' }, { issue_number: '1' }],
    ['issues/add-labels', 'POST', '/repos/o/r/issues/1/labels', {}, { issue_number: '1' }],
    ['issues/remove-label', 'DELETE', '/repos/o/r/issues/1/labels/agent%3Aconflict', {}, { issue_number: '1', name: 'agent:conflict' }],
    ['issues/list-comments', 'GET', '/repos/o/r/issues/1/comments', { per_page: '100' }, { issue_number: '1' }],
    ['issues/create-comment', 'POST', '/repos/o/r/issues/1/comments', {}, { issue_number: '1' }],
    ['issues/update-comment', 'PATCH', '/repos/o/r/issues/comments/7', {}, { comment_id: '7' }],
    ['pulls/list', 'GET', '/repos/o/r/pulls', { state: 'open', per_page: '100', head: 'o:agent/issue-1-x' }, {}],
    ['pulls/get', 'GET', '/repos/o/r/pulls/2', {}, { pull_number: '2' }],
    ['pulls/create', 'POST', '/repos/o/r/pulls', {}, {}],
    ['pulls/update', 'PATCH', '/repos/o/r/pulls/2', {}, { pull_number: '2' }],
    ['pulls/list-review-comments-for-repo', 'GET', '/repos/o/r/pulls/comments', {}, {}],
    ['pulls/list-reviews', 'GET', '/repos/o/r/pulls/2/reviews', { per_page: '100' }, { pull_number: '2' }],
    ['pulls/list-comments-for-review', 'GET', '/repos/o/r/pulls/2/reviews/5/comments', {}, { pull_number: '2', review_id: '5' }],
    ['pulls/merge', 'PUT', '/repos/o/r/pulls/2/merge', {}, { pull_number: '2' }],
    ['git/delete-ref', 'DELETE', '/repos/o/r/git/refs/heads/agent/issue-1-x', {}, { ref: 'heads/agent/issue-1-x' }],
    ['git/delete-ref', 'DELETE', '/repos/o/r/git/refs/heads%2Fagent%2Fissue-1-x', {}, { ref: 'heads/agent/issue-1-x' }],
    ['checks/create', 'POST', '/repos/o/r/check-runs', {}, {}],
    ['checks/list-for-ref', 'GET', `/repos/o/r/commits/${HEAD_SHA}/check-runs`, { per_page: '100' }, { ref: HEAD_SHA }],
    ['repos/get-combined-status-for-ref', 'GET', `/repos/o/r/commits/${HEAD_SHA}/status`, {}, { ref: HEAD_SHA }],
  ] as const)('%s: %s %s', (operationId, method, path, query, pathParams) => {
    const { match, problems } = validator.checkRequest(request(method, path, { ...query }, BODIES[operationId]));

    expect(match?.operationId).toBe(operationId);
    expect(match?.params).toEqual(path.startsWith('/repos/') ? { owner: 'o', repo: 'r', ...pathParams } : pathParams);
    expect(problems).toEqual([]);
  });

  it('names the template it matched', () => {
    const { match } = validator.checkRequest(request('GET', '/repos/o/r/contents/.github/agent-mapreduce.yml'));

    expect(match?.template).toBe('/repos/{owner}/{repo}/contents/{path}');
  });
});

describe('openApiValidator: requests GitHub would not accept as documented', () => {
  const validator = openApiValidator();

  it('accepts the pull request the app opens', () => {
    const pull = { title: 'Fix #1', head: 'agent/issue-1-x', base: 'main', body: 'Closes #1', draft: false, maintainer_can_modify: false };

    expect(validator.checkRequest(request('POST', '/repos/o/r/pulls', {}, pull)).problems).toEqual([]);
  });

  it('reports a pull request without a head branch', () => {
    const { problems } = validator.checkRequest(request('POST', '/repos/o/r/pulls', {}, { title: 'Fix #1', base: 'main' }));

    expect(problems).toEqual(["POST /repos/{owner}/{repo}/pulls body: must have required property 'head'"]);
  });

  it('reports a comment whose body is not a string', () => {
    const { problems } = validator.checkRequest(request('POST', '/repos/o/r/issues/1/comments', {}, { body: 42 }));

    expect(problems).toEqual(['POST /repos/{owner}/{repo}/issues/{issue_number}/comments body/body: must be string']);
  });

  it('reports a missing required body', () => {
    const { problems } = validator.checkRequest(request('POST', '/repos/o/r/issues/1/comments'));

    expect(problems).toEqual(['POST /repos/{owner}/{repo}/issues/{issue_number}/comments body: is required']);
  });

  it('reports a body on an operation that takes none', () => {
    const { problems } = validator.checkRequest(request('GET', '/repos/o/r/issues/1', {}, { title: 'x' }));

    expect(problems).toEqual(['GET /repos/{owner}/{repo}/issues/{issue_number} body: GitHub defines no JSON body for this operation']);
  });

  it('reports query parameters GitHub does not define, and values of the wrong type', () => {
    const { match, problems } = validator.checkRequest(request('GET', '/repos/o/r/issues', { label: 'agent', state: 'opened', per_page: 'all' }));

    expect(match?.operationId).toBe('issues/list-for-repo');
    expect(problems).toEqual([
      "GET /repos/{owner}/{repo}/issues query: GitHub defines no parameter 'label'",
      'GET /repos/{owner}/{repo}/issues query/state: must be equal to one of the allowed values (open, closed, all)',
      'GET /repos/{owner}/{repo}/issues query/per_page: must be integer',
    ]);
  });

  it('reports a path parameter of the wrong type', () => {
    const { problems } = validator.checkRequest(request('POST', '/app/installations/abc/access_tokens'));

    expect(problems).toEqual(['POST /app/installations/{installation_id}/access_tokens path/installation_id: must be integer']);
  });

  it('reports a path that matches no operation', () => {
    expect(validator.checkRequest(request('GET', '/repos/o/r/agents'))).toEqual({
      match: undefined,
      problems: ['GET /repos/o/r/agents: matches no GitHub REST operation'],
    });
  });

  it('reports a method the path does not support', () => {
    expect(validator.checkRequest(request('DELETE', '/repos/o/r/issues/1')).problems).toEqual([
      'DELETE /repos/o/r/issues/1: matches no GitHub REST operation',
    ]);
  });

  it('checks a warm request in well under a millisecond', () => {
    const listIssues = () => request('GET', '/repos/o/r/issues', { labels: 'agent', state: 'open', per_page: '100' });
    validator.checkRequest(listIssues());
    const runs = 1000;

    const started = performance.now();
    for (let run = 0; run < runs; run++) validator.checkRequest(listIssues());
    const perCall = (performance.now() - started) / runs;

    expect(perCall).toBeLessThan(0.5);
  });
});

describe('openApiValidator: responses', () => {
  const validator = openApiValidator();

  it('accepts an issue comment with every field the spec requires', () => {
    expect(validator.checkResponse('issues/create-comment', 201, issueComment)).toEqual([]);
  });

  it('accepts an issue comment whose author was deleted, since user is nullable', () => {
    expect(validator.checkResponse('issues/create-comment', 201, { ...issueComment, user: null })).toEqual([]);
  });

  it('rejects an issue comment with a bare user and a date that is not a date-time', () => {
    const comment = { ...issueComment, user: { login: 'alice', id: 1 }, created_at: 'yesterday' };

    const problems = validator.checkResponse('issues/create-comment', 201, comment);

    expect(problems).toContain("POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201 response/user: must have required property 'avatar_url'");
    expect(problems).toContain('POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201 response/created_at: must match format "date-time"');
  });

  it('rejects a comment list item without its required fields', () => {
    const { id: _, ...withoutId } = issueComment;

    expect(validator.checkResponse('issues/list-comments', 200, [withoutId])).toEqual([
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments 200 response/0: must have required property 'id'",
    ]);
  });

  it('rejects a pull request that lacks most of what GitHub returns', () => {
    const problems = validator.checkResponse('pulls/get', 200, { number: 2, title: 'Fix #1', state: 'open' });

    expect(problems).toContain("GET /repos/{owner}/{repo}/pulls/{pull_number} 200 response: must have required property 'head'");
    expect(problems).toContain("GET /repos/{owner}/{repo}/pulls/{pull_number} 200 response: must have required property 'mergeable_state'");
    expect(problems).not.toContain("GET /repos/{owner}/{repo}/pulls/{pull_number} 200 response: must have required property 'title'");
  });

  it('accepts a merge result and rejects an empty merge', () => {
    expect(validator.checkResponse('pulls/merge', 200, { sha: HEAD_SHA, merged: true, message: 'Pull Request successfully merged' })).toEqual([]);
    expect(validator.checkResponse('pulls/merge', 204, undefined)).toEqual([
      'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 204: GitHub documents no such status for this operation',
    ]);
  });

  it('wants no body where the spec documents none', () => {
    expect(validator.checkResponse('git/delete-ref', 204, undefined)).toEqual([]);
    expect(validator.checkResponse('git/delete-ref', 204, { ok: true })).toEqual([
      'DELETE /repos/{owner}/{repo}/git/refs/{ref} 204 response: GitHub documents no JSON body for this status',
    ]);
  });

  it('checks errors, documented or not, against the shape GitHub always uses', () => {
    const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };

    expect(validator.checkResponse('pulls/merge', 405, { message: 'Pull Request is not mergeable', documentation_url: 'x' })).toEqual([]);
    expect(validator.checkResponse('checks/create', 404, notFound)).toEqual([]);
    expect(validator.checkResponse('checks/create', 404, { message: 404 })).toEqual([
      'POST /repos/{owner}/{repo}/check-runs 404 response/message: must be string',
    ]);
  });

  it('reports an operation that does not exist', () => {
    expect(validator.checkResponse('issues/create-agent', 200, {})).toEqual(['issues/create-agent: no such GitHub operation']);
  });
});
