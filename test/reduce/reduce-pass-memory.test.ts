/**
 * The reduce pass at the pipeline level: GitHub is the in-memory port (no HTTP, no Probot), git is
 * real (a bare remote on disk, merged into by `onMerge` as GitHub's squash merge would).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/parse-config.js';
import { CONFLICT_LABEL, ORDER_CHECK } from '../../src/names.js';
import type { ReduceDeps, ReducePass } from '../../src/reduce/reduce-pass.js';
import { runReducePass } from '../../src/reduce/run-reduce-pass.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import type { MemoryGitHub } from '../support/memory-github.js';
import { reduceOnMemory } from '../support/memory-reduce.js';

let git: GitSandbox;
let github: MemoryGitHub;
let deps: ReduceDeps;
let pass: ReducePass;

beforeEach(async () => {
  git = await createGitSandbox();
  await git.commitToRemote('main', { 'a.txt': 'one\ntwo\nthree\n', 'b.txt': 'red\ngreen\n' }, 'Seed');
  ({ github, deps } = await reduceOnMemory(git));
  const config = parseConfig({ reduce: { requireChecks: false } });
  if (!config.ok) throw new Error('config');
  pass = { github, repository: { defaultBranch: 'main', cloneUrl: git.remoteUrl }, baseRef: 'main', config: config.config, log: pino({ level: 'silent' }) };
});

afterEach(async () => {
  await git.cleanup();
});

/** An agent PR whose branch changes `files` on top of main. */
async function agentPull(number: number, issue: number, files: Record<string, string>, approved = true) {
  const branch = `agent/issue-${issue}-change`;
  const sha = await git.commitToRemote(branch, files, `Change for #${issue}`);
  github.addPull({ number, headRef: branch, headSha: sha, title: `Change for #${issue}` });
  if (approved) github.review(number, { author: 'maintainer', state: 'APPROVED' });
}

describe('the reduce pass on the in-memory GitHub port', () => {
  it('merges approved PRs in order, flags the one that really conflicts, and leaves the unapproved one waiting', async () => {
    await agentPull(11, 1, { 'a.txt': 'one\nTWO\nthree\n' });
    await agentPull(12, 2, { 'b.txt': 'red\nteal\n' });
    await agentPull(13, 3, { 'a.txt': 'one\n2\nthree\n' });
    await agentPull(14, 4, { 'c.txt': 'new\n' }, false);

    const report = await runReducePass(deps, pass);

    // #12 first (no conflict with anyone), then #11 rebased onto it, then #13, which conflicts with #11
    expect(report.order).toEqual([12, 11, 13]);
    expect(report.merged).toEqual([12, 11]);
    expect(report.flagged).toEqual([13]);
    expect(report.waiting).toEqual([{ number: 14, reason: expect.stringContaining('approval') }]);
    expect(await git.readRemoteFile('main', 'a.txt')).toBe('one\nTWO\nthree\n');
    expect(await git.readRemoteFile('main', 'b.txt')).toBe('red\nteal\n');
    // what a person sees on GitHub, in order
    expect(github.writes.filter((w) => !w.startsWith('check run'))).toEqual([
      'merge PR #12', 'delete agent/issue-2-change', 'merge PR #11', 'delete agent/issue-1-change', `label #13 ${CONFLICT_LABEL}`, 'comment #13',
    ]);
    expect(github.comments.get(13)?.[0]?.body).toContain('⚠️ **Conflicts with #11**');
    expect(github.comments.get(13)?.[0]?.body).toContain('`a.txt`');
    const orderChecks = github.checkRuns.filter((r) => r.name === ORDER_CHECK).map((r) => r.title);
    expect(orderChecks).toEqual(expect.arrayContaining(['Left out: conflicts with #11', expect.stringMatching(/^Waiting: .*approval/)]));
  });

  it('never merges a PR whose head moved since its approval', async () => {
    await agentPull(21, 5, { 'c.txt': 'approved\n' });
    // a push after the approval: the approval covered other code
    const moved = await git.commitToRemote('agent/issue-5-change', { 'c.txt': 'not what was approved\n' }, 'Sneaky change');
    github.pulls.get(21)!.headSha = moved;

    const report = await runReducePass(deps, pass);

    expect(report.merged).toEqual([]);
    expect(github.writes).not.toContain('merge PR #21');
    expect(report.waiting.map((w) => w.number)).toEqual([21]);
  });

  it('keeps the approval of a PR it rebases cleanly next to a base edit, and merges it; a human commit still needs a person', async () => {
    const lines = (edits: Record<number, string>) => Array.from({ length: 10 }, (_, i) => edits[i] ?? `line ${i}`).join('\n') + '\n';
    await git.commitToRemote('main', { 'busy.txt': lines({}) }, 'A busy file');
    await agentPull(31, 6, { 'busy.txt': lines({ 5: 'the agent’s change' }) });
    await agentPull(32, 7, { 'busy.txt': lines({ 8: 'another agent change' }) });
    // after both approvals: a base edit two lines from #31's change, and a human's new commit on #32
    await git.commitToRemote('main', { 'busy.txt': lines({ 3: 'a base edit' }) }, 'Base edit near the change');
    const human = await git.commitToRemote('agent/issue-7-change', { 'busy.txt': lines({ 8: 'another agent change', 9: 'and a human edit' }) }, 'Human edit');
    github.pulls.get(32)!.headSha = human;

    const report = await runReducePass(deps, pass);

    expect(report.merged).toEqual([31]);
    expect(await git.readRemoteFile('main', 'busy.txt')).toBe(lines({ 3: 'a base edit', 5: 'the agent’s change' }));
    expect(report.waiting).toEqual([{ number: 32, reason: expect.stringContaining('fresh approval') }]);
    expect(github.writes).not.toContain('merge PR #32');
  });
});
