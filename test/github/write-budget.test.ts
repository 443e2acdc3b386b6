import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import nock from 'nock';
import { AppOctokit } from '../../src/github/app-octokit.js';
import { createOctokitGitHub } from '../../src/github/octokit-github.js';
import { notifyingWrite, WriteBudget, type WriteKind } from '../../src/github/write-budget.js';
import { OWNER, REPO } from '../support/payloads.js';
import { API, TOKEN } from '../support/test-probot.js';

describe('notifying writes', () => {
  it('are the writes GitHub marks as notifying: new issues, comments, PRs, reviews, review requests and merges', () => {
    const kinds = [
      ['POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments'], ['POST', '/repos/o/r/pulls'], ['PUT', '/repos/o/r/pulls/7/merge'],
      ['POST', '/repos/o/r/pulls/7/reviews'], ['POST', '/repos/o/r/pulls/7/requested_reviewers'], ['POST', 'https://api.github.com/repos/o/r/issues'],
      ['PATCH', '/repos/o/r/issues/comments/9'], ['POST', '/repos/o/r/issues/7/labels'], ['POST', '/repos/o/r/check-runs'],
      ['POST', '/repos/o/r/issues/7/reactions'], ['DELETE', '/repos/o/r/git/refs/heads/x'], ['GET', '/repos/o/r/pulls'],
    ].map(([method, url]) => notifyingWrite(method!, url!));
    expect(kinds).toEqual(['comment', 'pull', 'merge', 'review', 'review', 'issue', null, null, null, null, null, null]);
  });
});

describe('the write budget', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-12-01T10:00:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Takes a place for each kind, in this order; resolves to the order they went out in. */
  function race(budget: WriteBudget, kinds: WriteKind[]): string[] {
    const went: string[] = [];
    kinds.forEach((kind, i) => void budget.take(kind).then(() => went.push(`${kind}${i}`)));
    return went;
  }

  it('lets writes through at once until the minute is full, then each waits for the oldest to age out', async () => {
    const budget = new WriteBudget({ perMinute: 2, perHour: 100 });
    const went = race(budget, ['comment', 'comment', 'comment']);
    await jest.advanceTimersByTimeAsync(0);
    expect(went).toEqual(['comment0', 'comment1']);
    expect(budget.waiting).toBe(1);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(went).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(went).toEqual(['comment0', 'comment1', 'comment2']);
    expect(budget.waiting).toBe(0);
  });

  it('sends the waiting merges first, then PRs, then comments', async () => {
    const budget = new WriteBudget({ perMinute: 1, perHour: 100 });
    const went = race(budget, ['comment', 'comment', 'pull', 'merge']);
    await jest.advanceTimersByTimeAsync(0);
    expect(went).toEqual(['comment0']);
    await jest.advanceTimersByTimeAsync(3 * 60_000);
    expect(went).toEqual(['comment0', 'merge3', 'pull2', 'comment1']);
  });

  it('keeps under the hour too: the write after the hour’s last waits until an hour after the first', async () => {
    const budget = new WriteBudget({ perMinute: 10, perHour: 3 });
    const went: string[] = [];
    for (let i = 0; i < 3; i++) {
      await budget.take('comment');
      went.push(`comment${i}`);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
    }
    void budget.take('comment').then(() => went.push('comment3'));
    expect(budget.leftThisHour).toBe(0);
    await jest.advanceTimersByTimeAsync(29 * 60_000);
    expect(went).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(went).toEqual(['comment0', 'comment1', 'comment2', 'comment3']);
  });
});

describe('GitHub rate limits at the HTTP level, on the app’s Octokit', () => {
  const base = `/repos/${OWNER}/${REPO}`;
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const writes: string[] = [];
  const repoGitHub = (budget = new WriteBudget()) => createOctokitGitHub(new AppOctokit({ auth: TOKEN, log: quiet }) as never, {
    owner: OWNER, repo: REPO, installationId: 1, writes: { budget, observer: (write) => writes.push(write.kind) },
  });
  beforeEach(() => {
    writes.length = 0;
  });

  it('tries a 429 once more after its retry-after, and no more', async () => {
    const github = repoGitHub();
    const times: number[] = [];
    nock(API).post(`${base}/issues/3/comments`).times(2).reply(() => {
      times.push(Date.now());
      return times.length === 1 ? [429, { message: 'Too Many Requests' }, { 'retry-after': '1' }] : [201, { id: 1, body: 'hi', user: { login: 'bot', type: 'Bot' } }];
    });

    await github.createComment(3, 'hi');

    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1000);
    expect(writes).toEqual(['comment']);

    nock(API).post(`${base}/issues/3/comments`).times(2).reply(429, { message: 'Too Many Requests' }, { 'retry-after': '0' });
    await expect(github.createComment(3, 'again')).rejects.toMatchObject({ status: 429 });
  });

  it('does not retry a 409 on a merge: the head moved, so the pass must read again', async () => {
    const github = repoGitHub();
    nock(API).put(`${base}/pulls/7/merge`, { sha: 'a'.repeat(40), merge_method: 'squash' })
      .reply(409, { message: 'Head branch was modified. Review and try the merge again.' });

    const outcome = await github.mergePull(7, { sha: 'a'.repeat(40), method: 'squash' });

    expect(outcome).toEqual({ kind: 'moved', message: expect.stringContaining('Head branch was modified') });
    expect(writes).toEqual(['merge']);
  });

  it('does not retry a 405 on a merge either, and says why it was refused', async () => {
    const github = repoGitHub();
    nock(API).put(`${base}/pulls/7/merge`).reply(405, { message: 'Changes must be made through the merge queue' })
      .get(`${base}/pulls/7`).reply(200, { number: 7, merged: false, merge_commit_sha: null });

    const outcome = await github.mergePull(7, { sha: 'a'.repeat(40), method: 'squash' });

    expect(outcome).toEqual({ kind: 'not-mergeable', message: expect.stringContaining('merge queue') });
  });

  it('does not count an edit of a comment against the budget', async () => {
    const budget = new WriteBudget({ perMinute: 1, perHour: 1 });
    const github = repoGitHub(budget);
    nock(API).patch(`${base}/issues/comments/9`).times(3).reply(200, { id: 9, body: 'x' });

    for (let i = 0; i < 3; i++) await github.updateComment(9, `edit ${i}`);

    expect(writes).toEqual([]);
    expect(budget.leftThisHour).toBe(1);
  });
});
