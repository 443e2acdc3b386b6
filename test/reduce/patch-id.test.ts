import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { runGit } from '../../src/git/run-git.js';
import { Workspace } from '../../src/git/workspace.js';
import { patchIdAgainstBase } from '../../src/reduce/patch-id.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';

let sandbox: GitSandbox;
beforeEach(async () => {
  sandbox = await createGitSandbox();
});
afterEach(async () => {
  await sandbox.cleanup();
});

/** The app's cached clone, and `branch` rebased onto main there as the bot's clean rebase does. */
async function rebaseAsTheBot(branch: string): Promise<{ clone: string; rebased: string; sync(): Promise<void> }> {
  const workspace = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
  const repo = { owner: 'o', repo: 'r', cloneUrl: sandbox.remoteUrl };
  await workspace.sync(repo);
  const worktree = await workspace.addWorktree(repo, { name: 'rebase', branch, startPoint: `origin/${branch}` });
  await sandbox.git(worktree.dir, 'rebase', '--quiet', 'origin/main');
  const rebased = await sandbox.git(worktree.dir, 'rev-parse', 'HEAD');
  return { clone: workspace.cloneDir(repo), rebased, sync: () => workspace.sync(repo) };
}

describe('patchIdAgainstBase', () => {
  it('is the same for a change rebased onto a newer base, and differs once the change is edited', async () => {
    await sandbox.commitToRemote('main', { 'a.txt': 'one\n', 'b.txt': 'two\n' }, 'Base');
    const approved = await sandbox.commitToRemote('agent/issue-1-x', { 'a.txt': 'ONE\n' }, 'Change');
    const newBase = await sandbox.commitToRemote('main', { 'b.txt': 'TWO\n' }, 'Base moves');
    // the bot's rebase: the same change on top of the new base
    const { clone, rebased, sync } = await rebaseAsTheBot('agent/issue-1-x');
    const edited = await sandbox.commitToRemote('agent/issue-1-x', { 'a.txt': 'ONE, edited\n' }, 'Human edit');
    await sync();

    const id = (sha: string) => patchIdAgainstBase(clone, sha, newBase, sandbox.gitEnv);
    expect(rebased).not.toBe(approved);
    expect(await id(rebased)).toBe(await id(approved));
    expect(await id(edited)).not.toBe(await id(approved));
    expect(await id(newBase)).toBeNull();
  });

  it('is the same after a clean rebase onto a base edited two lines from the change (context lines do not count)', async () => {
    const lines = (edits: Record<number, string>) => Array.from({ length: 10 }, (_, i) => edits[i] ?? `line ${i}`).join('\n') + '\n';
    await sandbox.commitToRemote('main', { 'a.txt': lines({}) }, 'Base');
    const approved = await sandbox.commitToRemote('agent/issue-2-x', { 'a.txt': lines({ 5: 'the change' }) }, 'Change');
    const newBase = await sandbox.commitToRemote('main', { 'a.txt': lines({ 3: 'a base edit two lines away' }) }, 'Base moves');
    const { clone, rebased } = await rebaseAsTheBot('agent/issue-2-x');

    const id = (sha: string) => patchIdAgainstBase(clone, sha, newBase, sandbox.gitEnv);
    expect(await id(rebased)).toBe(await id(approved));
    // what the default three lines of context would have said: a different id for the same change
    const withContext = async (sha: string) => {
      const mergeBase = await sandbox.git(clone, 'merge-base', sha, newBase);
      const diff = await sandbox.git(clone, 'diff', '--full-index', mergeBase, sha);
      return runGit(['patch-id', '--stable'], { cwd: clone, env: sandbox.gitEnv, input: `${diff}\n` });
    };
    expect((await withContext(rebased)).split(' ')[0]).not.toBe((await withContext(approved)).split(' ')[0]);
  });
});
