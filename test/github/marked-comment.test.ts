import { describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { MarkedComments, readMarker, renderMarker } from '../../src/github/marked-comment.js';
import { createOctokitGitHub } from '../../src/github/octokit-github.js';
import { OWNER, REPO } from '../support/payloads.js';
import { API, APP_ID, TestOctokit, TOKEN } from '../support/test-probot.js';

// The Octokit adapter's own HTTP: what it asks GitHub and what it does with the answers, on plain nock.
const issues = `/repos/${OWNER}/${REPO}/issues`;
const github = () => nock(API);

interface RestComment {
  id: number;
  body: string;
  user: { login: string; type: 'User' | 'Bot' };
  performed_via_github_app?: { id: number } | null;
}

/** A comment by this app's bot user, as GitHub lists it. */
function botComment(id: number, body: string): RestComment {
  return { id, body, user: { login: 'agent-mapreduce[bot]', type: 'Bot' }, performed_via_github_app: { id: APP_ID } };
}

function mockListComments(issueNumber: number, comments: RestComment[]): void {
  github().get(`${issues}/${issueNumber}/comments`).query({ per_page: 100 }).reply(200, comments);
}

/** The bodies of the comments the app creates on the issue; GitHub answers with ids from 9000. */
function captureNewComments(issueNumber: number): string[] {
  const bodies: string[] = [];
  github().post(`${issues}/${issueNumber}/comments`, (body: { body: string }) => bodies.push(body.body) > 0)
    .reply(201, (_uri, body) => ({ ...botComment(9000, (body as { body: string }).body) }));
  return bodies;
}

function captureCommentEdits(commentId: number): string[] {
  const bodies: string[] = [];
  github().patch(`${issues}/comments/${commentId}`, (body: { body: string }) => bodies.push(body.body) > 0)
    .reply(200, (_uri, body) => ({ ...botComment(commentId, (body as { body: string }).body) }));
  return bodies;
}

function repoGitHub() {
  return createOctokitGitHub(new TestOctokit({ auth: TOKEN }) as never, { owner: OWNER, repo: REPO, installationId: 1 });
}

describe('marked comments', () => {
  it('round-trips its state, even a state holding "--" that would end an HTML comment', () => {
    const body = `${renderMarker('status', { state: 'failed', reason: 'exit -- code 1 -->' })}\nvisible`;
    expect(body.split('-->')).toHaveLength(2);
    expect(readMarker(body)).toEqual({ kind: 'status', data: { state: 'failed', reason: 'exit -- code 1 -->' } });
  });

  it('creates the comment once, then edits it in place, and skips an edit that changes nothing', async () => {
    const comments = new MarkedComments();
    const gh = repoGitHub();
    mockListComments(3, []);
    const created = captureNewComments(3);
    const edits = captureCommentEdits(9000);

    await comments.upsert(gh, 3, 'status', 'Queued (1st in line)', { state: 'queued' });
    await comments.upsert(gh, 3, 'status', 'Running', { state: 'running' });
    await comments.upsert(gh, 3, 'status', 'Running', { state: 'running' });

    expect(created).toEqual(['<!-- agent-mapreduce:status {"state":"queued"} -->\nQueued (1st in line)']);
    expect(edits).toEqual(['<!-- agent-mapreduce:status {"state":"running"} -->\nRunning']);
  });

  it('finds its own comment after a restart and ignores a person’s copy of the marker', async () => {
    const gh = repoGitHub();
    mockListComments(3, [
      { id: 10, body: '<!-- agent-mapreduce:status {"state":"pr-open"} -->', user: { login: 'mallory', type: 'User' } },
      botComment(11, '<!-- agent-mapreduce:status {"state":"running"} -->\nRunning'),
    ]);
    const edits = captureCommentEdits(11);

    await new MarkedComments().upsert(gh, 3, 'status', 'Done', { state: 'no-change' });

    expect(edits).toEqual(['<!-- agent-mapreduce:status {"state":"no-change"} -->\nDone']);
  });

  it('writes a new comment when someone deleted the one it remembered', async () => {
    const comments = new MarkedComments();
    const gh = repoGitHub();
    mockListComments(3, [botComment(11, '<!-- agent-mapreduce:status {"state":"queued"} -->\nQueued')]);
    github().patch(`/repos/${OWNER}/${REPO}/issues/comments/11`).reply(404, { message: 'Not Found' });
    const created = captureNewComments(3);

    await comments.upsert(gh, 3, 'status', 'Running', { state: 'running' });

    expect(created).toEqual(['<!-- agent-mapreduce:status {"state":"running"} -->\nRunning']);
  });
});
