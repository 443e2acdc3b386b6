import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { createOctokitGitHub } from '../../src/github/octokit-github.js';
import type { GitHub } from '../../src/github/port.js';
import { FakeGitHub } from './fake-github.js';
import { OWNER, REPO } from './payloads.js';
import { APP_ID, INSTALLATION_ID, TestOctokit, TOKEN } from './test-probot.js';

const CONFIG = 'agents:\n  default: claude\nmax_parallel: 3\n';
const HEAD_SHA = 'a'.repeat(40);

function connect(): { octokit: InstanceType<typeof TestOctokit>; github: GitHub } {
  const octokit = new TestOctokit({ auth: TOKEN });
  return { octokit, github: createOctokitGitHub(octokit as never, { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID }) };
}

describe('FakeGitHub', () => {
  let fake: FakeGitHub;
  let github: GitHub;
  let octokit: InstanceType<typeof TestOctokit>;

  beforeEach(() => {
    fake = new FakeGitHub({
      config: CONFIG,
      permissions: { alice: 'admin', bob: 'maintain', carol: 'triage', dave: 'none' },
      resolveHeadSha: (branch) => (branch === 'missing' ? Promise.reject(new Error('no such branch')) : HEAD_SHA),
    }).start();
    ({ octokit, github } = connect());
  });

  // In the describe block, so that it runs before strict-nock's own afterEach.
  afterEach(() => fake.stop());

  it('answers the token exchange, the app and its bot user', async () => {
    const token = await octokit.request('POST /app/installations/{installation_id}/access_tokens', { installation_id: INSTALLATION_ID });
    expect(token.status).toBe(201);
    expect(token.data.token).toBe(TOKEN);
    const app = await octokit.request('GET /app');
    expect(app.data?.slug).toBe('agent-mapreduce');
    expect(await github.getUserId('agent-mapreduce[bot]')).toBe(41898282);
    expect(fake.callsTo('GET', /^\/users\/agent-mapreduce%5Bbot%5D$/)).toHaveLength(1);
    expect(fake.callsTo('get', /^\/users\/agent-mapreduce\[bot\]$/)).toHaveLength(1); // decoded paths match too
    await expect(github.getUserId('nobody')).rejects.toMatchObject({ status: 404 });
    expect(fake.calls.map((c) => c.method)).toEqual(['POST', 'GET', 'GET', 'GET']);
  });

  it('serves the config file', async () => {
    expect(await github.readConfigLayers('.github/agent-mapreduce.yml')).toEqual([{ agents: { default: 'claude' }, max_parallel: 3 }]);
    expect(fake.callsTo('GET', /\/contents\//)).toHaveLength(1);

    fake.config = null;
    expect(await github.readConfigLayers('.github/agent-mapreduce.yml')).toEqual([]);
    expect(fake.callsTo('GET', /\/contents\//).map((c) => c.path)).toEqual([
      `/repos/${OWNER}/${REPO}/contents/.github%2Fagent-mapreduce.yml`,
      `/repos/${OWNER}/${REPO}/contents/.github%2Fagent-mapreduce.yml`,
      `/repos/${OWNER}/.github/contents/.github%2Fagent-mapreduce.yml`,
    ]);
  });

  it('reports permissions as GitHub does, legacy names and 404 included', async () => {
    expect(await github.getPermission('alice')).toBe('admin');
    expect(await github.getPermission('bob')).toBe('write');
    expect(await github.getPermission('carol')).toBe('read');
    expect(await github.getPermission('dave')).toBe('none');
    expect(await github.getPermission('mallory')).toBe('none');
    const raw = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: OWNER, repo: REPO, username: 'bob' });
    expect(raw.data).toMatchObject({ permission: 'write', role_name: 'maintain', user: { login: 'bob' } });
  });

  it('gets issues and lists the open ones with a label, across pages', async () => {
    fake.addIssue({ number: 7, title: 'Fix the widget', body: 'It is broken', labels: ['bug'], comments: ['first', 'second'] });
    expect(await github.getIssue(7)).toEqual({
      number: 7,
      title: 'Fix the widget',
      body: 'It is broken',
      open: true,
      labels: ['bug'],
      comments: 2,
      isPullRequest: false,
    });
    await expect(github.getIssue(999)).rejects.toMatchObject({ status: 404 });

    for (let n = 100; n < 230; n++) fake.addIssue({ number: n, title: `Issue ${n}`, labels: n % 10 === 0 ? [] : ['agent:run'] });
    fake.issue(101).state = 'closed';
    fake.addPull({ title: 'A PR', head: 'feature', labels: ['agent:run'] });
    const listed = await github.listOpenIssuesWithLabel('agent:run');
    expect(listed).toHaveLength(130 - 13 - 1);
    expect(listed.every((i) => i.open && i.labels.includes('agent:run') && !i.isPullRequest)).toBe(true);
    const pages = fake.callsTo('GET', new RegExp(`^/repos/${OWNER}/${REPO}/issues$`));
    expect(pages.map((c) => c.query)).toEqual([
      { labels: 'agent:run', state: 'open', per_page: '100' },
      { labels: 'agent:run', state: 'open', per_page: '100', page: '2' },
    ]);
  });

  it('records who labelled an issue', async () => {
    fake.addIssue({ number: 7, title: 'Fix the widget' });
    expect(await github.findLabelEvent(7, 'agent:run')).toBeNull();
    const event = fake.label(7, 'agent:run', 'alice', new Date('2024-05-01T10:00:00.123Z'));
    expect(event).toEqual({ label: 'agent:run', actor: fake.user('alice'), at: '2024-05-01T10:00:00Z' });
    expect(fake.label(7, 'agent:run', 'bob')).toBeUndefined(); // already there: GitHub records nothing
    expect(await github.findLabelEvent(7, 'agent:run')).toEqual({ actor: fake.user('alice'), at: Date.parse('2024-05-01T10:00:00Z') });
    expect((await github.getIssue(7)).labels).toEqual(['agent:run']);
  });

  it('adds and removes labels, a missing one quietly', async () => {
    fake.addIssue({ number: 7, title: 'Fix the widget', labels: ['agent:run'], labeledBy: 'alice' });
    await github.addLabels(7, ['agent:running', 'agent:failed']);
    expect(fake.issue(7).labels).toEqual(['agent:run', 'agent:running', 'agent:failed']);
    expect(fake.issue(7).labelEvents.map((e) => `${e.label} by ${e.actor.login}`)).toEqual([
      'agent:run by alice',
      'agent:running by agent-mapreduce[bot]',
      'agent:failed by agent-mapreduce[bot]',
    ]);

    await github.removeLabel(7, 'agent:failed');
    await github.removeLabel(7, 'agent:failed');
    expect(fake.issue(7).labels).toEqual(['agent:run', 'agent:running']);
    const deletes = fake.callsTo('DELETE', /\/labels\/agent%3Afailed$/);
    expect(deletes).toHaveLength(2);
    expect(deletes[0]?.path).toBe(`/repos/${OWNER}/${REPO}/issues/7/labels/agent%3Afailed`);
  });

  it('creates, updates and lists comments', async () => {
    fake.addIssue({ number: 7, title: 'Fix the widget', comments: [{ body: '/agent run', login: 'alice' }] });
    const first = await github.createComment(7, 'Working on it');
    const second = await github.createComment(7, 'Still working');
    expect(first).toEqual({ id: expect.any(Number), body: 'Working on it', author: 'agent-mapreduce[bot]', authorIsBot: true, viaAppId: APP_ID });
    expect(second.id).toBeGreaterThan(first.id);

    await github.updateComment(first.id, 'Done');
    await expect(github.updateComment(424242, 'nope')).rejects.toMatchObject({ status: 404 });
    expect(await github.listComments(7)).toEqual([
      { id: expect.any(Number), body: '/agent run', author: 'alice', authorIsBot: false },
      { id: first.id, body: 'Done', author: 'agent-mapreduce[bot]', authorIsBot: true, viaAppId: APP_ID },
      { id: second.id, body: 'Still working', author: 'agent-mapreduce[bot]', authorIsBot: true, viaAppId: APP_ID },
    ]);
    expect(fake.callsTo('POST', /\/issues\/7\/comments$/).map((c) => c.body)).toEqual([{ body: 'Working on it' }, { body: 'Still working' }]);
    expect((await github.getIssue(7)).comments).toBe(3);

    const theirs = fake.comment(7, 'thanks', 'bob');
    expect((await github.listComments(7)).at(-1)).toEqual({ id: theirs.id, body: 'thanks', author: 'bob', authorIsBot: false });
  });

  it('creates a PR once, then says it exists, and finds and updates it', async () => {
    const created = await github.createPull({ title: 'Fix #7', body: 'Closes #7', head: 'agent/issue-7', base: 'main' });
    expect(created).toEqual({
      number: 1,
      url: `https://github.com/${OWNER}/${REPO}/pull/1`,
      headRef: 'agent/issue-7',
      headSha: HEAD_SHA,
      baseRef: 'main',
      fromFork: false,
      draft: false,
      labels: [],
      createdAt: expect.any(Number),
    });
    expect(await github.createPull({ title: 'Again', body: '', head: 'agent/issue-7', base: 'main' })).toBe('exists');
    await expect(github.createPull({ title: 'Nope', body: '', head: 'missing', base: 'main' })).rejects.toMatchObject({ status: 422 });
    expect(fake.pulls).toHaveLength(1);

    expect(await github.findOpenAgentPull(7)).toEqual(created);
    expect(await github.findOpenAgentPull(8)).toBeNull();
    expect(fake.callsTo('GET', /\/pulls$/)[0]?.query).toEqual({ state: 'open', per_page: '100' });

    fake.addPull({ title: 'From a fork', head: 'patch-1', fromFork: true });
    expect((await github.listOpenPulls()).map((p) => [p.number, p.fromFork])).toEqual([
      [2, true],
      [1, false],
    ]);

    await github.updatePull(1, { title: 'Fix #7 (v2)' });
    expect(fake.pull(1)).toMatchObject({ title: 'Fix #7 (v2)', body: 'Closes #7', state: 'open', merged: false });
    await expect(github.updatePull(99, { body: 'x' })).rejects.toMatchObject({ status: 404 });

    fake.pull(1).state = 'closed';
    expect(await github.findOpenAgentPull(7)).toBeNull();
    expect(await github.createPull({ title: 'Fix #7 again', body: '', head: 'agent/issue-7', base: 'main' })).toMatchObject({ number: 3 });
  });

  it('records check runs', async () => {
    await github.createCheckRun({ name: 'agent-mapreduce', headSha: HEAD_SHA, status: 'in_progress', title: 'Running', summary: 'Agent at work' });
    await github.createCheckRun({
      name: 'agent-mapreduce',
      headSha: HEAD_SHA,
      status: 'completed',
      conclusion: 'failure',
      title: 'Failed',
      summary: 'Tests failed',
      text: 'details',
    });
    expect(fake.checkRuns).toEqual([
      { id: expect.any(Number), name: 'agent-mapreduce', head_sha: HEAD_SHA, status: 'in_progress', output: { title: 'Running', summary: 'Agent at work' } },
      {
        id: expect.any(Number),
        name: 'agent-mapreduce',
        head_sha: HEAD_SHA,
        status: 'completed',
        conclusion: 'failure',
        output: { title: 'Failed', summary: 'Tests failed', text: 'details' },
      },
    ]);
  });

  it('injects faults for the next matching calls only, without touching state', async () => {
    fake.addIssue({ number: 7, title: 'Fix the widget' });
    fake.failNext('GET', /\/issues\/7$/, 503);
    fake.failNext('POST', /\/issues\/7\/labels$/, 500, 2, { message: 'boom' });
    await expect(github.getIssue(7)).rejects.toMatchObject({ status: 503 });
    expect((await github.getIssue(7)).number).toBe(7);
    await expect(github.addLabels(7, ['x'])).rejects.toMatchObject({ status: 500, response: { data: { message: 'boom' } } });
    await expect(github.addLabels(7, ['x'])).rejects.toMatchObject({ status: 500 });
    expect(fake.issue(7).labels).toEqual([]);
    expect(fake.pendingFaults).toBe(0);
    await github.addLabels(7, ['x']);
    expect(fake.issue(7).labels).toEqual(['x']);
    expect(fake.callsTo('POST', /\/labels$/)).toHaveLength(3);
  });

  it('waits for calls, and says what it saw when they do not come', async () => {
    fake.addIssue({ number: 7, title: 'Fix the widget' });
    const waiting = fake.waitForCalls('POST', /\/issues\/7\/comments$/, 2);
    setTimeout(() => void github.createComment(7, 'one').then(() => github.createComment(7, 'two')), 20);
    await waiting;
    expect(fake.issue(7).comments).toHaveLength(2);

    await expect(fake.waitFor(() => fake.pulls.length > 0, 'a PR', 50)).rejects.toThrow(
      /waiting for a PR; calls so far:\n {2}POST \/repos\/octo-org\/widgets\/issues\/7\/comments\n/,
    );
  });

  it('leaves nothing behind after stop()', async () => {
    expect(nock.activeMocks().length).toBeGreaterThan(0);
    expect(nock.pendingMocks()).toEqual([]); // the interceptors are optional
    fake.stop();
    expect(nock.activeMocks()).toEqual([]);
    fake.stop(); // twice is fine
    // A second fake can take over once the first has stopped.
    const other = new FakeGitHub({ permissions: { newcomer: 'admin' } }).start();
    expect(await github.getPermission('newcomer')).toBe('admin');
    other.stop();
  });
});
