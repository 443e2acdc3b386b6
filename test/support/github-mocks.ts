import nock from 'nock';
import { API, APP_ID } from './test-probot.js';
import { OWNER, REPO } from './payloads.js';

/** Typed nock helpers, one per GitHub endpoint the app calls; each returns what it captured. */
const repoPath = `/repos/${OWNER}/${REPO}`;

export function github(): nock.Scope {
  return nock(API);
}

const legacyPermission = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read', none: 'none' };

/** The user's role as GitHub reports it: `maintain` and `triage` come back as the legacy `write` and `read`. */
export function mockPermission(login: string, role: keyof typeof legacyPermission): nock.Scope {
  return github().get(`${repoPath}/collaborators/${login}/permission`).reply(200, {
    permission: legacyPermission[role],
    role_name: role,
    user: { login, type: 'User' },
  });
}

const configPath = '/contents/.github%2Fagent-mapreduce.yml';

/** The repository's config file; with null, neither the repository nor the organisation's `.github` has one. */
export function mockConfigFile(yaml: string | null): nock.Scope {
  const scope = github().get(`${repoPath}${configPath}`);
  if (yaml !== null) return scope.reply(200, yaml, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
  return scope.reply(404, { message: 'Not Found' })
    .get(`/repos/${OWNER}/.github${configPath}`).reply(404, { message: 'Not Found' });
}

export interface RestComment {
  id: number;
  body: string;
  user: { login: string; type: 'User' | 'Bot' };
  performed_via_github_app?: { id: number } | null;
}

/** A comment by this app's bot user, as GitHub lists it. */
export function botComment(id: number, body: string): RestComment {
  return { id, body, user: { login: 'agent-mapreduce[bot]', type: 'Bot' }, performed_via_github_app: { id: APP_ID } };
}

export function mockListComments(issueNumber: number, comments: RestComment[]): nock.Scope {
  return github().get(`${repoPath}/issues/${issueNumber}/comments`).query({ per_page: 100 }).reply(200, comments);
}

/** Captures the bodies of comments the app creates on the issue; replies with increasing ids. */
export function captureNewComments(issueNumber: number, times = 1): { scope: nock.Scope; bodies: string[] } {
  const bodies: string[] = [];
  let nextId = 9000;
  const scope = github()
    .post(`${repoPath}/issues/${issueNumber}/comments`, (body: { body: string }) => {
      bodies.push(body.body);
      return true;
    })
    .times(times)
    .reply(201, (_uri, body) => ({ id: nextId++, body: (body as { body: string }).body, user: { login: 'agent-mapreduce[bot]', type: 'Bot' }, performed_via_github_app: { id: APP_ID } }));
  return { scope, bodies };
}

export function captureCommentEdits(commentId: number, times = 1): { scope: nock.Scope; bodies: string[] } {
  const bodies: string[] = [];
  const scope = github()
    .patch(`${repoPath}/issues/comments/${commentId}`, (body: { body: string }) => {
      bodies.push(body.body);
      return true;
    })
    .times(times)
    .reply(200, (_uri, body) => ({ id: commentId, body: (body as { body: string }).body, user: { login: 'agent-mapreduce[bot]', type: 'Bot' } }));
  return { scope, bodies };
}
