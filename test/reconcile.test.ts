import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { waitUntil } from './support/app-on-local-github.js';
import type { LocalGitHub } from './support/local-github/local-github.js';
import { OWNER, REPO } from './support/payloads.js';
import { FULL_NAME, startMapHarness, type MapHarness } from './support/map-harness.js';
import { ScriptedAgent, sleep, usage, writeOneFile } from './support/scripted-agent.js';

let harness: MapHarness | undefined;
/** A work folder a test made itself (the harness removes only its own). */
let ownWorkDir: string | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  if (ownWorkDir) await rm(ownWorkDir, { recursive: true, force: true });
  ownWorkDir = undefined;
});

/** An issue opened and labelled while the app heard nothing of it (its webhooks were lost). */
function lostIssue(github: LocalGitHub, number: number, title: string, labels: string[], by: string): void {
  github.openIssue(FULL_NAME, { number, title, by: 'reporter' });
  for (const label of labels) github.label(FULL_NAME, number, label, by);
}

describe('reconcile', () => {
  it('after a restart, queues the labelled issues that have no PR and no final state, and clears leftover worktrees', async () => {
    // what a crashed process left behind
    const workDir = (ownWorkDir = await mkdtemp(path.join(os.tmpdir(), 'reconcile-work-')));
    const leftover = path.join(workDir, 'worktrees', OWNER, REPO, 'issue-1');
    await mkdir(leftover, { recursive: true });
    await writeFile(path.join(leftover, 'half-written.txt'), 'x');

    const agent = new ScriptedAgent(writeOneFile());
    // what GitHub holds when the app starts again; the app heard of none of it
    const before = async (github: LocalGitHub) => {
      for (const n of [1, 2]) lostIssue(github, n, `Lost webhook ${n}`, ['agent'], 'maintainer');
      // the process died mid-run: its status says running
      github.comment(FULL_NAME, 2, '<!-- agent-mapreduce:status {"state":"running","attempt":1} -->\n🏃 **Running**', github.bot.login);
      lostIssue(github, 3, 'Has its PR', ['agent'], 'maintainer');
      // the process died after opening the PR, before the label said so
      github.label(FULL_NAME, 3, 'agent:working', github.bot.login);
      lostIssue(github, 4, 'Failed before', ['agent', 'agent:failed'], 'maintainer');
      lostIssue(github, 5, 'Nothing to do', ['agent'], 'maintainer');
      github.comment(FULL_NAME, 5, '<!-- agent-mapreduce:status {"state":"no-change","attempt":1} -->\nℹ️', github.bot.login);
      lostIssue(github, 6, 'Labelled by a passer-by', ['agent'], 'drive-by');
      // without status comments: taken and not finished (runs again), and PR opened (a person closed it: not again)
      lostIssue(github, 7, 'Was working', ['agent'], 'maintainer');
      github.label(FULL_NAME, 7, 'agent:working', github.bot.login);
      lostIssue(github, 8, 'PR closed by a person', ['agent'], 'maintainer');
      github.label(FULL_NAME, 8, 'agent:pr-opened', github.bot.login);
      await github.commit(FULL_NAME, 'agent/issue-3-has-its-pr', { 'changes/issue-3.txt': 'done\n' }, 'Has its PR (#3)', { by: github.bot.login });
      await github.openPull(FULL_NAME, { title: 'Has its PR', head: 'agent/issue-3-has-its-pr', by: github.bot.login });
    };
    harness = await startMapHarness({ agent, background: true, workDir, before });
    const h = harness;

    await h.reconcile();
    await h.idle();

    expect(agent.requests).toHaveLength(3);
    expect(h.pulls().map((p) => p.head).sort()).toEqual([
      'agent/issue-1-lost-webhook-1', 'agent/issue-2-lost-webhook-2', 'agent/issue-3-has-its-pr', 'agent/issue-7-was-working',
    ]);
    expect(h.issue(3).labels).toEqual(['agent', 'agent:pr-opened']);
    expect(h.issue(7).labels).toEqual(['agent', 'agent:pr-opened']);
    expect(h.issue(8).labels).toEqual(['agent', 'agent:pr-opened']);
    expect(h.comments(2).filter((c) => c.user.type === 'Bot')).toHaveLength(1);
    expect(h.comments(2)[0]!.body).toContain('✅ **PR opened:**');
    expect(h.comments(2)[0]!.body).toContain('(attempt 2)');
    const [commit] = await h.sandbox.remoteLog('agent/issue-1-lost-webhook-1');
    expect(commit!.body).toContain(`Co-authored-by: maintainer <${h.github.state.user('maintainer').id}+maintainer@`);
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
    await h.reconcile(); // the start-up pass: nothing labelled yet
    await h.labelIssue(1, 'Changed my mind');
    await waitUntil('the agent to start', () => agent.requests.length === 1);
    h.github.unlabel(FULL_NAME, 1, 'agent'); // and the unlabeled webhook never arrives

    await h.reconcile();
    await h.idle();

    expect(await h.sandbox.remoteBranches()).toEqual(['main']);
    expect(h.comments(1)[0]!.body).toContain('⏹️ **Cancelled.** \n\n> The issue is closed or no longer labelled `agent`.');
    expect(h.pulls()).toHaveLength(0);
  });
});
