import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { AgentRequest } from '../../src/agents/agent.js';
import { startMapHarness, type MapHarness } from '../support/map-harness.js';
import { ScriptedAgent, usage } from '../support/scripted-agent.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const bots = (h: MapHarness, pull: number) => h.pull(pull).comments.filter((c) => c.user.type === 'Bot').map((c) => c.body);

/** The first run edits src/app.txt; a conflict-resolution run keeps both sides' lines. */
function agent(onConflict?: (request: AgentRequest) => Promise<void>): ScriptedAgent {
  return new ScriptedAgent(async (request) => {
    const file = path.join(request.worktree, 'src/app.txt');
    if (request.task.includes('resolve a rebase conflict')) {
      await onConflict?.(request);
      const text = await readFile(file, 'utf8');
      if (text.includes('<<<<<<<')) await writeFile(file, 'hello from main\nhello from the PR\n');
      return { outcome: 'changed', summary: 'Kept both greetings.', usage: usage() };
    }
    await writeFile(file, 'hello from the PR\n');
    return { outcome: 'changed', summary: 'Changed the greeting.', usage: usage() };
  });
}

async function openPull(a: ScriptedAgent) {
  harness = await startMapHarness({ agent: a });
  const h = harness;
  await h.labelIssue(1, 'Greet');
  await h.idle();
  const { number, head } = h.pulls()[0]!;
  return { h, pull: number, branch: head };
}

describe('/agent rebase', () => {
  it('rebases a PR whose base moved without conflicts onto the new base, with a lease', async () => {
    const { h, pull, branch } = await openPull(agent());
    const newBase = await h.sandbox.commitToRemote('main', { 'docs.md': 'docs\n' }, 'Add docs');

    await h.comment(pull, '/agent rebase');
    await h.idle();

    const [head, parent] = await h.sandbox.remoteLog(branch);
    expect(parent!.sha).toBe(newBase);
    expect(head!.subject).toBe('Greet (#1)');
    expect(await h.sandbox.readRemoteFile(branch, 'src/app.txt')).toBe('hello from the PR\n');
    expect(await h.sandbox.readRemoteFile(branch, 'docs.md')).toBe('docs\n');
    expect(bots(h, pull)).toEqual([`@maintainer rebased onto \`main\` without conflicts: the head is now ${head!.sha.slice(0, 7)}.`]);
  });

  it('has the agent resolve a real conflict, leaves no markers, and asks for review again', async () => {
    const a = agent();
    const { h, pull, branch } = await openPull(a);
    const newBase = await h.sandbox.commitToRemote('main', { 'src/app.txt': 'hello from main\n' }, 'Greet from main');

    await h.comment(pull, '/agent rebase');
    await h.idle();

    const resolution = a.requests.find((r) => r.task.includes('resolve a rebase conflict'))!;
    expect(resolution.task).toContain('- `src/app.txt`');
    expect(resolution.task).toMatch(/- [0-9a-f]{7} Greet from main/);
    expect(resolution.task).toContain('Resolve issue #1');
    const [head, parent] = await h.sandbox.remoteLog(branch);
    expect(parent!.sha).toBe(newBase);
    expect(await h.sandbox.readRemoteFile(branch, 'src/app.txt')).toBe('hello from main\nhello from the PR\n');
    expect(bots(h, pull)).toHaveLength(1);
    expect(bots(h, pull)[0]).toContain(`the agent resolved conflicts, so **this PR needs review again**: the head is now ${head!.sha.slice(0, 7)}.`);
  });

  it('pushes nothing and says so when someone pushed to the branch while it rebased', async () => {
    const a = agent(async () => {
      const pushedBy = harness!;
      await pushedBy.sandbox.commitToRemote(pushedBy.pulls()[0]!.head, { 'human.txt': 'a person was here\n' }, 'Human fix');
    });
    const opened = await openPull(a);
    const { h, branch } = opened;
    await h.sandbox.commitToRemote('main', { 'src/app.txt': 'hello from main\n' }, 'Greet from main');

    await h.comment(opened.pull, '/agent rebase');
    await h.idle();

    const [head] = await h.sandbox.remoteLog(branch);
    expect(head!.subject).toBe('Human fix');
    expect(bots(h, opened.pull)[0]).toMatch(/^@maintainer the rebased branch was not pushed: `agent\/issue-1-greet` moved while the rebase ran/);
  });

  it('gives up without pushing when the agent leaves conflict markers', async () => {
    const a = new ScriptedAgent(async (request) => {
      if (!request.task.includes('resolve a rebase conflict')) await writeFile(path.join(request.worktree, 'src/app.txt'), 'hello from the PR\n');
      return { outcome: 'changed', summary: 'Done.', usage: usage() };
    });
    const { h, pull, branch } = await openPull(a);
    const before = await h.sandbox.remoteLog(branch);
    await h.sandbox.commitToRemote('main', { 'src/app.txt': 'hello from main\n' }, 'Greet from main');

    await h.comment(pull, '/agent rebase');
    await h.idle();

    expect(await h.sandbox.remoteLog(branch)).toEqual(before);
    expect(bots(h, pull)[0]).toContain('conflict markers are left in `src/app.txt`. Nothing was pushed.');
  });
});
