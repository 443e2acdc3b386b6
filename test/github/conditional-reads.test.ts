import { describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { AppOctokit } from '../../src/github/app-octokit.js';
import { ReadCache } from '../../src/github/conditional-reads.js';
import { createOctokitGitHub } from '../../src/github/octokit-github.js';
import { OWNER, REPO } from '../support/payloads.js';
import { API, TOKEN } from '../support/test-probot.js';

const reviews = `/repos/${OWNER}/${REPO}/pulls/7/reviews`;
const review = { id: 1, user: { login: 'maintainer' }, state: 'APPROVED', commit_id: 'a'.repeat(40), submitted_at: '2026-12-01T10:00:00Z' };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function repoGitHub(reads: ReadCache, installationId = 1) {
  return createOctokitGitHub(new AppOctokit({ auth: TOKEN, log: quiet }) as never, { owner: OWNER, repo: REPO, installationId, reads });
}

describe('conditional reads', () => {
  it('sends the ETag of the last answer, and answers a 304 with what it kept', async () => {
    const reads = new ReadCache();
    const sent: Array<string | undefined> = [];
    nock(API).get(reviews).query(true).times(3).reply(function () {
      const match = this.req.headers['if-none-match'];
      sent.push(Array.isArray(match) ? match[0] : match);
      return match === '"v1"' && sent.length < 3 ? [304, ''] : [200, sent.length < 3 ? [review] : [], { etag: sent.length < 3 ? '"v1"' : '"v2"' }];
    });
    const github = repoGitHub(reads);

    const first = await github.listReviews(7);
    const second = await github.listReviews(7);
    const third = await github.listReviews(7);

    expect(sent).toEqual([undefined, '"v1"', '"v1"']);
    expect(second).toEqual(first);
    expect(first.map((r) => r.state)).toEqual(['APPROVED']);
    // the third time the reviews had changed: GitHub's new answer stands
    expect(third).toEqual([]);
  });

  it('keeps answers apart per installation: another installation’s ETag is never sent', async () => {
    const reads = new ReadCache();
    const sent: Array<string | undefined> = [];
    nock(API).get(reviews).query(true).times(2).reply(function () {
      const match = this.req.headers['if-none-match'];
      sent.push(Array.isArray(match) ? match[0] : match);
      return [200, [review], { etag: '"v1"' }];
    });

    await repoGitHub(reads, 1).listReviews(7);
    await repoGitHub(reads, 2).listReviews(7);

    expect(sent).toEqual([undefined, undefined]);
  });
});
