import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { runGit } from '../../src/git/run-git.js';
import type { FakePull } from '../support/fake-github.js';
import { startMapHarness, type MapHarness } from '../support/map-harness.js';
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

/** GitHub's squash merge and branch deletion, done on the sandbox remote. */
async function wireMerges(h: MapHarness): Promise<void> {
  const scratch = await mkdtemp(path.join(h.sandbox.root, 'merger-'));
  const git = (...args: string[]) => runGit(args, { cwd: scratch, env: { ...h.sandbox.gitEnv, GIT_ALLOW_PROTOCOL: 'file' } });
  await git('clone', '--quiet', h.sandbox.remoteUrl, '.');
  h.github.onMerge = async (pull: FakePull) => {
    await git('fetch', '--quiet', 'origin');
    await git('checkout', '--quiet', '-B', 'main', 'origin/main');
    const merged = await runGit(['merge', '--squash', `origin/${pull.head}`], { cwd: scratch, env: h.sandbox.gitEnv, expectedExitCodes: [1] });
    if (merged.code !== 0) {
      await git('reset', '--quiet', '--hard');
      return null;
    }
    await git('commit', '--quiet', '-m', `${pull.title} (#${pull.number})`);
    await git('push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    return (await git('rev-parse', 'HEAD')).trim();
  };
  h.github.onDeleteBranch = async (branch) => {
    await git('push', '--quiet', 'origin', '--delete', branch);
  };
}

function approve(h: MapHarness, pull: FakePull, at = Date.now()): void {
  pull.reviews = [...(pull.reviews ?? []), {
    id: 900 + (pull.reviews?.length ?? 0) + pull.number * 10, user: 'maintainer', state: 'APPROVED',
    commit_id: pull.headSha, submitted_at: new Date(at).toISOString(),
  }];
}

/**
 * The app with the given reduce config, the shared file on main, and one agent PR per issue (opened
 * the normal way), each approved on its head; GitHub's merges happen on the sandbox remote.
 */
async function approvedPulls(issues: Array<[number, string]>, reduceConfig: string, a: ScriptedAgent = agent()) {
  harness = await startMapHarness({ agent: a, config: `reduce:\n${reduceConfig}` });
  const h = harness;
  await h.sandbox.commitToRemote('main', { 'shared.txt': SHARED }, 'Shared file');
  for (const [n, title] of issues) await h.labelIssue(n, title);
  await h.idle();
  await wireMerges(h);
  const pulls = issues.map(([n]) => pullOf(h, n));
  pulls.forEach((pull, i) => approve(h, pull, 1000 * (i + 1)));
  return { h, pulls };
}

const pullOf = (h: MapHarness, issue: number) => h.github.pulls.find((p) => p.head.startsWith(`agent/issue-${issue}-`))!;

describe('reduce', () => {
  it('merges the approved PRs in a conflict-aware order and flags the one that really conflicts, until it is fixed', async () => {
    const { h, pulls } = await approvedPulls([[1, 'A'], [2, 'B'], [3, 'C'], [4, 'D']], '  requireChecks: false\n');
    const [a, b, c, d] = pulls as [FakePull, FakePull, FakePull, FakePull];

    await h.review(a.number, { id: 1, state: 'approved', body: 'ok' }); // any approval starts a pass
    await h.idle();

    expect(h.github.merges.map((m) => m.number)).toEqual([b.number, d.number, a.number]);
    expect(h.github.merges.every((m) => m.method === 'squash')).toBe(true);
    expect(await h.sandbox.readRemoteFile('main', 'shared.txt')).toBe('one\nTWO from A\nthree\n');
    expect(h.github.deletedBranches.sort()).toEqual([a.head, b.head, d.head].sort());
    expect(c.state).toBe('open');
    expect(c.labels).toContain('agent:conflict');
    const flag = c.comments.filter((x) => x.user.type === 'Bot').map((x) => x.body);
    expect(flag).toHaveLength(1);
    expect(flag[0]).toContain(`⚠️ **Conflicts with #${a.number}**`);
    expect(flag[0]).toContain('- `shared.txt`');
    expect(flag[0]).toContain('CONFLICT (content): Merge conflict in shared.txt');

    // someone fixes C on top of the new base, and approves the fix
    const scratch = await mkdtemp(path.join(h.sandbox.root, 'fixer-'));
    const git = (...args: string[]) => runGit(args, { cwd: scratch, env: { ...h.sandbox.gitEnv, GIT_ALLOW_PROTOCOL: 'file' } });
    await git('clone', '--quiet', h.sandbox.remoteUrl, '.');
    await git('checkout', '--quiet', '-B', c.head, 'origin/main');
    await writeFile(path.join(scratch, 'shared.txt'), 'one\nTWO from A and C\nthree\n');
    await git('commit', '--quiet', '-am', 'Resolve with A');
    await git('push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${c.head}`);
    c.headSha = (await git('rev-parse', 'HEAD')).trim();
    approve(h, c, 9000); // after the first approvals

    await h.review(c.number, { id: 2, state: 'approved', body: 'fixed' });
    await h.idle();

    expect(h.github.merges.map((m) => m.number)).toEqual([b.number, d.number, a.number, c.number]);
    expect(c.labels).not.toContain('agent:conflict');
    expect(c.comments.filter((x) => x.user.type === 'Bot').map((x) => x.body)).toEqual(['<!-- agent-mapreduce:conflict {"conflict":false} -->\n✅ **No longer conflicts**: it is back in the merge order.']);
    expect(await h.sandbox.readRemoteFile('main', 'shared.txt')).toBe('one\nTWO from A and C\nthree\n');
  });

  it('does not merge a PR whose approval is for older code, and never merges from two passes at once', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B'], [4, 'D']], '  requireChecks: false\n');
    const [b, d] = pulls as [FakePull, FakePull];
    await h.sandbox.commitToRemote(d.head, { 'd.txt': 'a human changed it\n' }, 'Human commit after the approval');

    await Promise.all([
      h.review(b.number, { id: 3, state: 'approved', body: 'ok' }),
      h.review(b.number, { id: 4, state: 'approved', body: 'ok again' }),
    ]);
    await h.idle();

    expect(h.github.merges.map((m) => m.number)).toEqual([b.number]);
    expect(d.state).toBe('open');
  });
});

describe('reduce with required checks', () => {
  it('merges nothing before the head’s checks are green, shows why on the merge-order check, and merges once they are', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B'], [4, 'D']], '  requireChecks: true\n');
    const [b, d] = pulls as [FakePull, FakePull];
    h.github.statuses.push({ sha: b.headSha, context: 'ci', state: 'failure' }, { sha: d.headSha, context: 'ci', state: 'pending' });

    await h.review(b.number, { id: 5, state: 'approved', body: 'ok' });
    await h.idle();

    expect(h.github.merges).toEqual([]);
    const order = (sha: string) => h.github.checkRuns.filter((r) => r.name === 'agent-mapreduce/merge-order' && r.head_sha === sha).at(-1);
    expect(order(b.headSha)?.output.title).toBe('Waiting: a required check failed on the head');
    expect(order(d.headSha)?.output.title).toBe('Waiting: waiting for the head’s checks');

    h.github.statuses.push({ sha: b.headSha, context: 'ci', state: 'success' });
    h.github.statuses.splice(0, 1); // the failed run was retried and passed
    await h.review(b.number, { id: 6, state: 'approved', body: 'ok' });
    await h.idle();

    expect(h.github.merges.map((m) => m.number)).toEqual([b.number]);
  });

  it('does not merge when the head moved between the check and the merge (the sha guard), and says so', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B']], '  requireChecks: false\n');
    const [b] = pulls as [FakePull];
    h.github.failNext('PUT', /\/pulls\/\d+\/merge$/, 409, 1, { message: 'Head branch was modified. Review and try the merge again.' });

    await h.review(b.number, { id: 7, state: 'approved', body: 'ok' });
    await h.idle();

    expect(h.github.merges).toEqual([]);
    expect(b.state).toBe('open');
    const order = h.github.checkRuns.filter((r) => r.name === 'agent-mapreduce/merge-order').at(-1);
    expect(order?.output.title).toMatch(/^Waiting: .*Head branch was modified/);
  });
});

describe('/agent hold and /agent merge', () => {
  it('takes a PR out of the merge order and puts it back', async () => {
    const { h, pulls } = await approvedPulls([[2, 'B']], '  requireChecks: false\n');
    const [b] = pulls as [FakePull];

    await h.commentOnPull(b.number, '/agent hold');
    await h.review(b.number, { id: 8, state: 'approved', body: 'ok' });
    await h.idle();
    expect(b.labels).toContain('agent:hold');
    expect(h.github.merges).toEqual([]);

    await h.commentOnPull(b.number, '/agent merge');
    await h.idle();
    expect(b.labels).not.toContain('agent:hold');
    expect(h.github.merges.map((m) => m.number)).toEqual([b.number]);
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
    const [pa, pc] = pulls as [FakePull, FakePull];

    await h.review(pa.number, { id: 9, state: 'approved', body: 'ok' });
    await h.idle();

    expect(h.github.merges.map((m) => m.number)).toEqual([pa.number]);
    expect(await h.sandbox.readRemoteFile(pc.head, 'shared.txt')).toBe('one\nTWO from A and C\nthree\n');
    const said = pc.comments.filter((x) => x.user.type === 'Bot').map((x) => x.body);
    expect(said.some((b) => b.includes('The agent is rebasing it and resolving the conflict now'))).toBe(true);
    expect(said.some((b) => b.startsWith('Rebased onto `main`; the agent resolved conflicts, so **this PR needs review again**'))).toBe(true);
  });
});
