/**
 * Red CI while a person's revision is pending: the failure folds into the person's queued run (one run,
 * one push, one CI cycle), and one that waited behind a running revision is dropped once that revision
 * moved the head (the new head's CI speaks for itself). The app runs in process on the local GitHub.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { AgentRequest } from '../../src/agents/agent.js';
import { waitUntil } from '../support/app-on-local-github.js';
import type { CheckRun } from '../support/local-github/state.js';
import type { Delivery } from '../support/local-github/webhooks.js';
import { FULL_NAME, startMapHarness, type MapHarness } from '../support/map-harness.js';
import { ScriptedAgent, sleep, usage, writeOneFile } from '../support/scripted-agent.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** A finished, failed GitHub Actions job on `sha`, and its `check_run` webhook, not yet delivered. */
function failCheck(h: MapHarness, sha: string, name: string, message: string): Delivery[] {
  const { github } = h;
  const repository = github.repo(FULL_NAME);
  const now = github.state.now();
  const run: CheckRun = {
    id: github.state.nextId(), headSha: sha, name, status: 'completed', conclusion: 'failure', title: 'Failed', summary: '1 test failed',
    detailsUrl: null, startedAt: now, completedAt: now, actions: true, log: 'npm test\nexit 1\n',
    annotations: [{ path: 'changes/issue-1.txt', line: 1, level: 'failure', message }],
  };
  repository.checkRuns.push(run);
  const actions = github.state.user('github-actions[bot]', 'Bot');
  return h.caused(() => github.sendEvent('check_run', repository, actions, { action: 'completed', check_run: github.renderCheckRun(repository, run) }));
}

/** Map runs write the issue's file (issue 2's waits for `gate`); revision runs append to it. */
function agentWith(gate: Promise<void>, revisionDelayMs = 0): ScriptedAgent {
  return new ScriptedAgent(async (request: AgentRequest, n) => {
    if (!request.feedback) {
      if (n === 2) await gate;
      return writeOneFile()(request, n);
    }
    await sleep(revisionDelayMs, request.signal);
    await appendFile(path.join(request.worktree, 'changes', `issue-${n}.txt`), 'revised\n');
    return { outcome: 'changed', summary: 'Renamed it and fixed the test.', usage: usage() };
  });
}

const revisionRuns = (agent: ScriptedAgent) => agent.requests.filter((r) => r.feedback);
const botComments = (h: MapHarness, n: number) => h.pull(n).comments.filter((c) => c.user.type === 'Bot').map((c) => c.body);

describe('red CI while a person’s revision is pending', () => {
  it('folds the failing check into the person’s queued revision: one run with both, one commit', async () => {
    let release!: () => void;
    const agent = agentWith(new Promise<void>((resolve) => (release = resolve)));
    harness = await startMapHarness({ agent, maxAgents: 1 });
    const h = harness;
    const record = jest.spyOn(h.services.profile, 'record');
    await h.labelIssue(1, 'Add greeting');
    await h.idle();
    const pull = h.pulls()[0]!;
    const head = pull.headSha;
    await h.labelIssue(2, 'Something slow'); // takes the one slot until released
    await waitUntil('issue 2 to run', () => agent.running === 1);

    await h.review(pull.number, { state: 'changes_requested', body: 'Rename it.' });
    await h.deliver(...failCheck(h, head, 'ci/test', 'expected "hello" in changes/issue-1.txt'));
    release();
    await h.idle();

    const runs = revisionRuns(agent);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.feedback).toContain('## 1. Review requesting changes by @maintainer\n\nRename it.');
    expect(runs[0]!.feedback).toContain(`## 2. Failing checks on ${head.slice(0, 7)} (round 1 of 2 of CI fixes): \`ci/test\``);
    expect(runs[0]!.feedback).toContain('expected "hello" in changes/issue-1.txt');
    expect(runs[0]!.feedback).toContain('exit 1');
    expect((await h.sandbox.remoteLog(pull.head))[0]!.subject).toBe(`Address review feedback and failing checks on #${pull.number}`);
    const comments = botComments(h, pull.number);
    expect(comments.find((c) => c.startsWith('@maintainer revised in'))).toContain('to fix the failing checks (CI round 1 of 2):');
    expect(comments.find((c) => c.includes('CI fixes by the agent'))).toContain(`- round 1: \`ci/test\` failed on ${head.slice(0, 7)}`);
    expect(record).toHaveBeenCalledWith(expect.objectContaining({ type: 'checks', pr: pull.number, sha: head, state: 'failed', failed: ['ci/test'] }));
  });

  it('drops a failure that waited behind a running revision once that revision moved the head', async () => {
    const agent = agentWith(Promise.resolve(), 300);
    harness = await startMapHarness({ agent });
    const h = harness;
    await h.labelIssue(1, 'Add greeting');
    await h.idle();
    const pull = h.pulls()[0]!;
    const head = pull.headSha;
    await h.comment(pull.number, '/agent revise rename it');
    await waitUntil('the revision to start', () => revisionRuns(agent).length === 1);

    await h.deliver(...failCheck(h, head, 'ci/test', 'the old head fails'));
    await h.idle();

    expect(revisionRuns(agent)).toHaveLength(1);
    expect(h.pull(pull.number).headSha).not.toBe(head);
    expect(botComments(h, pull.number)).toEqual([expect.stringMatching(/^@maintainer revised in [0-9a-f]{7}:/)]);
  });
});
