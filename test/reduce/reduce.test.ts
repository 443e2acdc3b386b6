import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { FULL_NAME, startMapHarness, type MapHarness, type PullView } from '../support/map-harness.js';
import { ScriptedAgent, usage } from '../support/scripted-agent.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const SHARED = 'one\ntwo\nthree\n';

/** Issues 1 (A) and 3 (C) edit the same line of shared.txt; 2 (B) and 4 (D) touch files of their own. */
function agent(): ScriptedAgent {
  return new ScriptedAgent(async (request, n) => {
    const edits: Record<number, [string, string]> = {
      1: ['shared.txt', 'one\nTWO from A\nthree\n'], 2: ['b.txt', 'b\n'], 3: ['shared.txt', 'one\nTWO from C\nthree\n'], 4: ['d.txt', 'd\n'],
    };
    const [file, content] = edits[n]!;
    await writeFile(path.join(request.worktree, file), content);
    return { outcome: 'changed', summary: `Edited ${file}.`, usage: usage() };
  });
}

/** An approval of the PR's head by a writer, given at `at` (ms), whose webhook the app does not get. */
function approve(h: MapHarness, pull: PullView, at: number): void {
  // by the maintainer; the reviews that start a pass below are the admin's, so they leave these in charge of the order
  h.recordReview(pull.number, { state: 'approved', body: 'ok', at: new Date(at) });
}

/**
 * The app with the given reduce config, the shared file on main, and one agent PR per issue (opened
 * the normal way), each approved on its head; the local GitHub merges them as GitHub does.
 */
async function approvedPulls(issues: Array<[number, string]>, reduceConfig: string, a: ScriptedAgent = agent()) {
  harness = await startMapHarness({ agent: a, config: `reduce:\n${reduceConfig}` });
  const h = harness;
  await h.sandbox.commitToRemote('main', { 'shared.txt': SHARED }, 'Shared file');
  for (const [n, title] of issues) await h.labelIssue(n, title);
  await h.idle();
  const pulls = issues.map(([n]) => pullOf(h, n));
  pulls.forEach((pull, i) => approve(h, pull, 1000 * (i + 1)));
  return { h, pulls };
}

const pullOf = (h: MapHarness, issue: number) => h.pulls().find((p) => p.head.startsWith(`agent/issue-${issue}-`))!;
const mergeOrder = (h: MapHarness, sha?: string) =>
  h.github.repo(FULL_NAME).checkRuns.filter((r) => r.name === 'agent-mapreduce/merge-order' && (sha === undefined || r.headSha === sha)).at(-1);

describe('reduce', () => {
  it('merges the approved PRs in a conflict-aware order and flags the one that really conflicts, until it is fixed', async () => {
    const { h, pulls } = await approvedPulls([[1, 'A'], [2, 'B'], [3, 'C'], [4, 'D']], '  requireChecks: false\n');
    const [a, b, c, d] = pulls as [PullView, PullView, PullView, PullView];

    await h.review(a.number, { state: 'approved', body: 'ok', by: 'admin' }); // any approval starts a pass
    await h.idle();

    expect(h.merges().map((m) => m.number)).toEqual([b.number, d.number, a.number]);
    expect(h.merges().every((m) => m.method === 'squash')).toBe(true);
    expect(await h.sandbox.readRemoteFile('main', 'shared.txt')).toBe('one\nTWO from A\nthree\n');
    expect(h.deletedBranches().sort()).toEqual([a.head, b.head, d.head].sort());
    expect(c.state).toBe('open');
    expect(c.labels).toContain('agent:conflict');
    const flag = c.comments.filter((x) => x.user.type === 'Bot').map((x) => x.body);
    expect(flag).toHaveLength(1);
    expect(flag[0]).toContain(`⚠️ **Conflicts with #${a.number}**`);
    expect(flag[0]).toContain('- `shared.txt`');
    expect(flag[0]).toContain('CONFLICT (content): Merge conflict in shared.txt');

    // someone fixes C on top of the new base, and approves the fix
    await h.github.commit(FULL_NAME, c.head, { 'shared.txt': 'one\nTWO from A and C\nthree\n' }, 'Resolve with A', { from: 'main' });
    approve(h, c, 9000); // after the first approvals

    await h.review(c.number, { state: 'approved', body: 'fixed', by: 'admin' });
    await h.idle();

    expect(h.merges().map((m) => m.number)).toEqual([b.number, d.number, a.number, c.number]);
    expect(c.labels).not.toContain('agent:conflict');
    expect(c.comments.filter((x) => x.user.type === 'Bot').map((x) => x.body)).toEqual(['<!-- agent-mapreduce:conflict {"conflict":false} -->\n✅ **No longer conflicts**: it is back in the merge order.']);
    expect(await h.sandbox.readRemoteFile('main', 'shared.txt')).toBe('one\nTWO from A and C\nthree\n');
  });

  it('does not merge a PR whose approval is for older code, and never merges from two passes at once', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B'], [4, 'D']], '  requireChecks: false\n');
    const [b, d] = pulls as [PullView, PullView];
    await h.sandbox.commitToRemote(d.head, { 'd.txt': 'a human changed it\n' }, 'Human commit after the approval');

    await Promise.all([
      h.review(b.number, { state: 'approved', body: 'ok', by: 'admin' }),
      h.review(b.number, { state: 'approved', body: 'ok again', by: 'admin' }),
    ]);
    await h.idle();

    expect(h.merges().map((m) => m.number)).toEqual([b.number]);
    expect(d.state).toBe('open');
  });
});

describe('reduce with required checks', () => {
  it('merges nothing before the head’s checks are green, shows why on the merge-order check, and merges once they are', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B'], [4, 'D']], '  requireChecks: true\n');
    const [b, d] = pulls as [PullView, PullView];
    h.github.setStatus(FULL_NAME, b.headSha, 'ci', 'failure');
    h.github.setStatus(FULL_NAME, d.headSha, 'ci', 'pending');

    await h.review(b.number, { state: 'approved', body: 'ok', by: 'admin' });
    await h.idle();

    expect(h.merges()).toEqual([]);
    expect(mergeOrder(h, b.headSha)?.title).toBe('Waiting: a required check failed on the head');
    expect(mergeOrder(h, d.headSha)?.title).toBe('Waiting: waiting for the head’s checks');

    h.github.setStatus(FULL_NAME, b.headSha, 'ci', 'success'); // the failed run was retried and passed
    await h.review(b.number, { state: 'approved', body: 'ok', by: 'admin' });
    await h.idle();

    expect(h.merges().map((m) => m.number)).toEqual([b.number]);
  });

  it('does not merge when the head moved between the check and the merge (the sha guard), and says so', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B']], '  requireChecks: false\n');
    const [b] = pulls as [PullView];
    h.github.faults.add({ operation: 'pulls/merge', kind: 'head-moved', times: 1 });

    await h.review(b.number, { state: 'approved', body: 'ok', by: 'admin' });
    await h.idle();

    expect(h.merges()).toEqual([]);
    expect(b.state).toBe('open');
    expect(mergeOrder(h)?.title).toMatch(/^Waiting: .*Head branch was modified/);
  });
});

describe('/agent hold and /agent merge', () => {
  it('takes a PR out of the merge order and puts it back', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B']], '  requireChecks: false\n');
    const [b] = pulls as [PullView];

    await h.comment(b.number, '/agent hold');
    await h.review(b.number, { state: 'approved', body: 'ok', by: 'admin' });
    await h.idle();
    expect(b.labels).toContain('agent:hold');
    expect(h.merges()).toEqual([]);

    await h.comment(b.number, '/agent merge');
    await h.idle();
    expect(b.labels).not.toContain('agent:hold');
    expect(h.merges().map((m) => m.number)).toEqual([b.number]);
  });
});

describe('reduce.autoResolve', () => {
  it('has the agent rebase a PR that conflicts instead of only flagging it', async () => {
    const a = new ScriptedAgent(async (request, n) => {
      const resolving = request.task.includes('resolve a rebase conflict');
      const line = resolving ? 'TWO from A and C' : `TWO from ${n === 1 ? 'A' : 'C'}`;
      await writeFile(path.join(request.worktree, 'shared.txt'), `one\n${line}\nthree\n`);
      return { outcome: 'changed', summary: resolving ? 'Kept both.' : 'Edited shared.txt.', usage: usage() };
    });
    const { h, pulls } = await approvedPulls([[1, 'A'], [3, 'C']], '  requireChecks: false\n  autoResolve: true\n', a);
    const [pa, pc] = pulls as [PullView, PullView];

    await h.review(pa.number, { state: 'approved', body: 'ok', by: 'admin' });
    await h.idle();

    expect(h.merges().map((m) => m.number)).toEqual([pa.number]);
    expect(await h.sandbox.readRemoteFile(pc.head, 'shared.txt')).toBe('one\nTWO from A and C\nthree\n');
    const said = pc.comments.filter((x) => x.user.type === 'Bot').map((x) => x.body);
    expect(said.some((b) => b.includes('The agent is rebasing it and resolving the conflict now'))).toBe(true);
    expect(said.some((b) => b.startsWith('Rebased onto `main`; the agent resolved conflicts, so **this PR needs review again**'))).toBe(true);
  });
});
