import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
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

describe('patchIdAgainstBase', () => {
  it('is the same for a change rebased onto a newer base, and differs once the change is edited', async () => {
    await sandbox.commitToRemote('main', { 'a.txt': 'one\n', 'b.txt': 'two\n' }, 'Base');
    const approved = await sandbox.commitToRemote('agent/issue-1-x', { 'a.txt': 'ONE\n' }, 'Change');
    const newBase = await sandbox.commitToRemote('main', { 'b.txt': 'TWO\n' }, 'Base moves');
    const workspace = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
    const repo = { owner: 'o', repo: 'r', cloneUrl: sandbox.remoteUrl };
    await workspace.sync(repo);
    const clone = workspace.cloneDir(repo);
    // the bot's rebase: the same change on top of the new base
    const worktree = await workspace.addWorktree(repo, { name: 'rebase', branch: 'agent/issue-1-x', startPoint: 'origin/agent/issue-1-x' });
    await sandbox.git(worktree.dir, 'rebase', '--quiet', 'origin/main');
    const rebased = await sandbox.git(worktree.dir, 'rev-parse', 'HEAD');
    const edited = await sandbox.commitToRemote('agent/issue-1-x', { 'a.txt': 'ONE, edited\n' }, 'Human edit');
    await workspace.sync(repo);

    const id = (sha: string) => patchIdAgainstBase(clone, sha, newBase, sandbox.gitEnv);
    expect(rebased).not.toBe(approved);
    expect(await id(rebased)).toBe(await id(approved));
    expect(await id(edited)).not.toBe(await id(approved));
    expect(await id(newBase)).toBeNull();
  });
});
