import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { OWNER, REPO } from './support/payloads.js';
import { startMapHarness, type MapHarness } from './support/map-harness.js';
import { ScriptedAgent, sleep, usage, writeOneFile } from './support/scripted-agent.js';
import { API, INSTALLATION_ID } from './support/test-probot.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

function mockInstallationListing(cloneUrl: string, passes: number): void {
  nock(API).get('/app/installations').query(true).times(passes)
    .reply(200, [{ id: INSTALLATION_ID, account: { login: OWNER } }]);
  nock(API).get('/installation/repositories').query(true).times(passes).reply(200, {
    total_count: 1,
    repositories: [{ name: REPO, full_name: `${OWNER}/${REPO}`, owner: { login: OWNER }, default_branch: 'main', clone_url: cloneUrl }],
  });
}

describe('reconcile', () => {
  it('after a restart, queues the labelled issues that have no PR and no final state, and clears leftover worktrees', async () => {
    // what a crashed process left behind
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'reconcile-work-'));
    const leftover = path.join(workDir, 'worktrees', OWNER, REPO, 'issue-1');
    await mkdir(leftover, { recursive: true });
    await writeFile(path.join(leftover, 'half-written.txt'), 'x');

    const agent = new ScriptedAgent(writeOneFile());
    harness = await startMapHarness({ agent, background: true, workDir });
    const h = harness;
    mockInstallationListing(h.sandbox.remoteUrl, 1);
    for (const n of [1, 2]) {
      h.github.addIssue({ number: n, title: `Lost webhook ${n}`, labels: ['agent'], labeledBy: 'maintainer' });
    }
    // the process died mid-run: its status says running
    h.github.issue(2).comments.push({
      id: 77, body: '<!-- agent-mapreduce:status {"state":"running","attempt":1} -->\n🏃 **Running**',
      user: { login: 'agent-mapreduce[bot]', type: 'Bot' }, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
    });
    h.github.addIssue({ number: 3, title: 'Has its PR', labels: ['agent'], labeledBy: 'maintainer' });
    h.github.addPull({ number: 30, title: 'Has its PR', head: 'agent/issue-3-has-its-pr' });
    h.github.addIssue({ number: 4, title: 'Failed before', labels: ['agent', 'agent:failed'], labeledBy: 'maintainer' });
    h.github.addIssue({ number: 5, title: 'Nothing to do', labels: ['agent'], labeledBy: 'maintainer' });
    h.github.issue(5).comments.push({
      id: 78, body: '<!-- agent-mapreduce:status {"state":"no-change","attempt":1} -->\nℹ️',
      user: { login: 'agent-mapreduce[bot]', type: 'Bot' }, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
    });
    h.github.addIssue({ number: 6, title: 'Labelled by a passer-by', labels: ['agent'], labeledBy: 'drive-by' });

    await h.reconcile();
    await h.idle();

    expect(agent.requests).toHaveLength(2);
    expect(h.github.pulls.map((p) => p.head).sort()).toEqual(['agent/issue-1-lost-webhook-1', 'agent/issue-2-lost-webhook-2', 'agent/issue-3-has-its-pr']);
    expect(h.github.issue(2).comments.filter((c) => c.user.type === 'Bot')).toHaveLength(1);
    expect(h.github.issue(2).comments[0]!.body).toContain('✅ **PR opened:**');
    expect(h.github.issue(2).comments[0]!.body).toContain('(attempt 2)');
    const [commit] = await h.sandbox.remoteLog('agent/issue-1-lost-webhook-1');
    expect(commit!.body).toContain(`Co-authored-by: maintainer <${h.github.user('maintainer').id}+maintainer@`);
    expect(existsSync(path.join(leftover, 'half-written.txt'))).toBe(false);
    for (const worktree of await h.idleWorktrees()) expect(worktree).toMatchObject({ leftFiles: '', head: 'HEAD' });
  });

  it('cancels a job whose label went while its webhook was lost', async () => {
    // runs until it is cancelled
    const agent = new ScriptedAgent(async (request) => {
      await sleep(600_000, request.signal);
      return { outcome: 'changed', summary: '', usage: usage() };
    });
    harness = await startMapHarness({ agent, background: true });
    const h = harness;
    mockInstallationListing(h.sandbox.remoteUrl, 2);
    await h.reconcile(); // the start-up pass: nothing labelled yet
    await h.labelIssue(1, 'Changed my mind');
    await h.github.waitFor(() => agent.requests.length === 1, 'the agent to start');
    h.github.unlabel(1, 'agent'); // and the unlabeled webhook never arrives

    await h.reconcile();
    await h.idle();

    expect(await h.sandbox.remoteBranches()).toEqual(['main']);
    expect(h.github.issue(1).comments[0]!.body).toContain('⏹️ **Cancelled.** \n\n> The issue is closed or no longer labelled `agent`.');
    expect(h.github.pulls).toHaveLength(0);
  });
});
