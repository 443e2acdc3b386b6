import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { runGit } from '../../src/git/run-git.js';
import { Workspace } from '../../src/git/workspace.js';
import { commitAll, headSha } from '../../src/git/worktree-git.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import type { Worktree } from '../../src/git/worktree.js';

const BOT = { name: 'agent-mapreduce[bot]', email: '123+agent-mapreduce[bot]@users.noreply.github.com' };

let sandbox: GitSandbox;
let workspace: Workspace;
let repo: { owner: string; repo: string; cloneUrl: string };

beforeEach(async () => {
  sandbox = await createGitSandbox();
  workspace = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
  repo = { owner: 'Octo', repo: 'App', cloneUrl: sandbox.remoteUrl };
});

afterEach(async () => {
  await sandbox.cleanup();
});

const gitIn = (cwd: string, ...args: string[]) => sandbox.git(cwd, ...args);
const worktreeList = async () => (await gitIn(workspace.cloneDir(repo), 'worktree', 'list', '--porcelain'))
  .split('\n').filter((line) => line.startsWith('worktree ')).map((line) => line.slice('worktree '.length));

async function editAndCommit(worktree: Worktree, files: Record<string, string>, message: string): Promise<string> {
  for (const [file, content] of Object.entries(files)) await fs.writeFile(path.join(worktree.dir, file), content);
  const sha = await commitAll(worktree.dir, { message, author: BOT }, { env: sandbox.gitEnv });
  if (sha === null) throw new Error('expected a commit');
  return sha;
}

describe('Workspace.sync', () => {
  it('creates a bare clone that fetches branches into refs/remotes/origin', async () => {
    await workspace.sync(repo);

    const clone = workspace.cloneDir(repo);
    expect(clone).toBe(path.join(sandbox.root, 'work', 'repos', 'octo', 'app.git'));
    expect(await gitIn(clone, 'rev-parse', '--is-bare-repository')).toBe('true');
    expect(await gitIn(clone, 'config', '--get-all', 'remote.origin.fetch')).toBe('+refs/heads/*:refs/remotes/origin/*');
    const [initial] = await sandbox.remoteLog('main');
    expect(await gitIn(clone, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(`refs/remotes/origin/main ${initial?.sha}`);
  });

  it('fetches new commits and branches on the next sync and prunes deleted branches', async () => {
    await sandbox.commitToRemote('agent/old', { 'old.txt': 'old\n' }, 'Old branch');
    await workspace.sync(repo);
    const mainSha = await sandbox.commitToRemote('main', { 'src/app.txt': 'hello again\n' }, 'Change app');
    const featureSha = await sandbox.commitToRemote('feature', { 'feature.txt': 'new\n' }, 'Add feature');
    await sandbox.git(path.join(sandbox.root, 'remote.git'), 'branch', '-D', 'agent/old');

    await workspace.sync(repo);

    const refs = await gitIn(workspace.cloneDir(repo), 'for-each-ref', '--format=%(refname) %(objectname)');
    expect(refs.split('\n').sort()).toEqual([`refs/remotes/origin/feature ${featureSha}`, `refs/remotes/origin/main ${mainSha}`]);
  });

  it('only fetches into a clone it set up whose config is unchanged, and sets a clone up again for a new URL or a changed config', async () => {
    const trace = path.join(sandbox.root, 'git-trace.txt');
    const traced = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: { ...sandbox.gitEnv, GIT_TRACE: trace } });
    /** The commands that set a clone up or fetch, of those a sync ran (git's own trace), the trace then emptied. */
    const commandsOf = async (sync: Promise<void>) => {
      await sync;
      const lines = (await fs.readFile(trace, 'utf8')).split('\n');
      await fs.writeFile(trace, '');
      return lines.map((line) => /trace: built-in: git (\S+)/.exec(line)?.[1]).filter((c) => ['init', 'config', 'remote', 'fetch'].includes(c!));
    };
    expect(await commandsOf(traced.sync(repo))).toEqual(['init', 'config', 'remote', 'fetch']);
    const clone = traced.cloneDir(repo);
    // a job's branch is deleted: git writes the config file anew, with the same text
    const before = await fs.stat(path.join(clone, 'config'));
    await gitIn(clone, 'branch', '--no-track', 'gone', 'refs/remotes/origin/main');
    await gitIn(clone, 'branch', '-D', 'gone');
    expect((await fs.stat(path.join(clone, 'config'))).ino).not.toBe(before.ino);
    expect(await commandsOf(traced.sync(repo))).toEqual(['fetch']);

    const sameRemote = path.join(sandbox.root, 'same-remote.git');
    await fs.symlink(path.join(sandbox.root, 'remote.git'), sameRemote);
    const moved = { ...repo, cloneUrl: sameRemote };
    expect(await commandsOf(traced.sync(moved))).toEqual(['init', 'config', 'remote', 'fetch']);
    expect(await gitIn(clone, 'config', '--get', 'remote.origin.url')).toBe(moved.cloneUrl);

    await gitIn(clone, 'config', 'core.logallrefupdates', 'false');
    expect(await commandsOf(traced.sync(moved))).toEqual(['init', 'config', 'fetch']);
  });
});

describe('Workspace worktrees', () => {
  beforeEach(async () => {
    await workspace.sync(repo);
  });

  it('cuts the worktree from the start point on a branch of its own with no upstream', async () => {
    const revisionSha = await sandbox.commitToRemote('agent/issue-3-x', { 'src/app.txt': 'revised\n' }, 'First attempt');
    await workspace.sync(repo);

    const fresh = await workspace.addWorktree(repo, { name: 'issue-4', branch: 'agent/issue-4-y', startPoint: 'origin/main' });
    const revision = await workspace.addWorktree(repo, { name: 'issue-3', branch: 'agent/issue-3-x', startPoint: 'origin/agent/issue-3-x' });

    expect(fresh).toEqual({
      dir: path.join(sandbox.root, 'work', 'worktrees', 'octo', 'app', 'issue-4'), branch: 'agent/issue-4-y', owner: 'Octo', repo: 'App',
      cloneDir: path.join(sandbox.root, 'work', 'repos', 'octo', 'app.git'),
    });
    expect(await headSha(fresh.dir)).toBe((await sandbox.remoteLog('main'))[0]?.sha);
    expect(await fs.readFile(path.join(fresh.dir, 'src/app.txt'), 'utf8')).toBe('hello\n');
    expect(await gitIn(fresh.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/agent/issue-4-y');
    expect(await headSha(revision.dir)).toBe(revisionSha);
    expect(await fs.readFile(path.join(revision.dir, 'src/app.txt'), 'utf8')).toBe('revised\n');
    const upstreams = await runGit(['config', '--get-regexp', '^branch\\.'], { cwd: workspace.cloneDir(repo), env: sandbox.gitEnv, expectedExitCodes: [1] });
    expect(upstreams).toEqual({ code: 1, stdout: '', stderr: '' });
  });

  it('adds twelve worktrees of one repository at once', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `issue-${i + 1}`);

    const worktrees = await Promise.all(names.map((name) =>
      workspace.addWorktree(repo, { name, branch: `agent/${name}-task`, startPoint: 'origin/main' })));

    for (const worktree of worktrees) {
      expect(await gitIn(worktree.dir, 'symbolic-ref', '--short', 'HEAD')).toBe(worktree.branch);
    }
    expect((await worktreeList()).sort()).toEqual([workspace.cloneDir(repo), ...worktrees.map((w) => w.dir)].sort());
  });

  it('replaces a folder left behind by a crashed run', async () => {
    const crashed = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1-a', startPoint: 'origin/main' });
    await fs.writeFile(path.join(crashed.dir, 'half-done.txt'), 'junk\n');
    const stray = workspace.worktreeDir(repo, 'issue-2');
    await fs.mkdir(stray, { recursive: true });
    await fs.writeFile(path.join(stray, 'junk.txt'), 'junk\n');

    // the process that made them is gone; a new one finds the folders
    const restarted = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
    const again = await restarted.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1-a', startPoint: 'origin/main' });
    const replaced = await restarted.addWorktree(repo, { name: 'issue-2', branch: 'agent/issue-2-b', startPoint: 'origin/main' });

    expect((await fs.readdir(again.dir)).sort()).toEqual(['.git', 'README.md', 'src']);
    expect((await fs.readdir(replaced.dir)).sort()).toEqual(['.git', 'README.md', 'src']);
    expect((await worktreeList()).sort()).toEqual([workspace.cloneDir(repo), again.dir, replaced.dir].sort());
  });

  it('never hands out a folder that a running job or an idle worktree already has', async () => {
    const first = await workspace.addWorktree(repo, { name: 'issue-5', branch: 'agent/issue-5', startPoint: 'origin/main' });
    await workspace.recycleWorktree(first);
    const busy = await workspace.addWorktree(repo, { name: 'issue-7', branch: 'agent/issue-7', startPoint: 'origin/main' });
    expect(busy.dir).toBe(first.dir); // issue 7 now works in the folder named after issue 5
    await fs.writeFile(path.join(busy.dir, 'work-of-7.txt'), 'mine\n');

    const again = await workspace.addWorktree(repo, { name: 'issue-5', branch: 'agent/issue-5', startPoint: 'origin/main' });

    expect(again.dir).toBe(workspace.worktreeDir(repo, 'issue-5-2'));
    expect(await fs.readFile(path.join(busy.dir, 'work-of-7.txt'), 'utf8')).toBe('mine\n');
    expect(await gitIn(busy.dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('agent/issue-7');
  });

  it('removes the worktree, its folder, its record and its local branch, and can do it twice', async () => {
    const worktree = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1-a', startPoint: 'origin/main' });
    await fs.writeFile(path.join(worktree.dir, 'uncommitted.txt'), 'work in progress\n');

    await workspace.removeWorktree(worktree);
    await workspace.removeWorktree(worktree);

    await expect(fs.access(worktree.dir)).rejects.toThrow();
    expect(await worktreeList()).toEqual([workspace.cloneDir(repo)]);
    expect(await gitIn(workspace.cloneDir(repo), 'for-each-ref', 'refs/heads')).toBe('');
  });

  it('clears leftover worktrees and stale lock files at start-up, keeping the cached clone', async () => {
    await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1-a', startPoint: 'origin/main' });
    await workspace.addWorktree(repo, { name: 'issue-2', branch: 'agent/issue-2-b', startPoint: 'origin/main' });
    await fs.mkdir(workspace.worktreeDir(repo, 'stray'), { recursive: true });
    const clone = workspace.cloneDir(repo);
    await fs.writeFile(path.join(clone, 'packed-refs.lock'), '');
    await fs.writeFile(path.join(clone, 'refs', 'remotes', 'origin', 'main.lock'), '');
    const mainSha = (await sandbox.remoteLog('main'))[0]?.sha;

    await workspace.cleanStartup();

    expect(await fs.readdir(path.join(sandbox.root, 'work'))).toEqual(['repos']);
    expect(await worktreeList()).toEqual([clone]);
    expect(await gitIn(clone, 'rev-parse', 'origin/main')).toBe(mainSha);
    const newSha = await sandbox.commitToRemote('main', { 'next.txt': 'next\n' }, 'Next');
    await workspace.sync(repo);
    expect(await gitIn(clone, 'rev-parse', 'origin/main')).toBe(newSha);
    const again = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1-a', startPoint: 'origin/main' });
    expect(await headSha(again.dir)).toBe(newSha);
  });

  it('refuses names that would leave the work directory', async () => {
    await expect(workspace.addWorktree(repo, { name: '..', branch: 'agent/x', startPoint: 'origin/main' })).rejects.toThrow('not a safe folder name');
    await expect(workspace.sync({ ...repo, owner: 'a/../b' })).rejects.toThrow('not a safe folder name');
  });
});

describe('Workspace.push', () => {
  let worktree: Worktree;

  beforeEach(async () => {
    await workspace.sync(repo);
    worktree = await workspace.addWorktree(repo, { name: 'issue-5', branch: 'agent/issue-5-y', startPoint: 'origin/main' });
  });

  it('creates the branch on the remote with the commit and updates the cached remote-tracking branch', async () => {
    const sha = await editAndCommit(worktree, { 'fix.txt': 'fixed\n' }, 'Fix the thing\n\nBecause it was broken.\n\nCo-authored-by: Mona <mona@example.com>\n');

    const outcome = await workspace.push(worktree, { lease: { expectedSha: null } });

    expect(outcome).toEqual({ kind: 'pushed', sha });
    expect(await sandbox.remoteBranches()).toEqual(['agent/issue-5-y', 'main']);
    const [pushed, parent] = await sandbox.remoteLog('agent/issue-5-y');
    expect(pushed).toEqual({
      sha, subject: 'Fix the thing', body: 'Because it was broken.\n\nCo-authored-by: Mona <mona@example.com>', authorName: BOT.name, authorEmail: BOT.email,
    });
    expect(parent?.subject).toBe('Initial commit');
    expect(await sandbox.readRemoteFile('agent/issue-5-y', 'fix.txt')).toBe('fixed\n');
    expect(await gitIn(workspace.cloneDir(repo), 'rev-parse', 'refs/remotes/origin/agent/issue-5-y')).toBe(sha);
  });

  it('is rejected when the lease is stale, and pushes when the remote is where the lease expects', async () => {
    const first = await editAndCommit(worktree, { 'fix.txt': 'one\n' }, 'One');
    expect(await workspace.push(worktree, { lease: { expectedSha: null } })).toEqual({ kind: 'pushed', sha: first });
    const someoneElse = await sandbox.commitToRemote('agent/issue-5-y', { 'other.txt': 'theirs\n' }, 'Theirs');
    const second = await editAndCommit(worktree, { 'fix.txt': 'two\n' }, 'Two');

    const stale = await workspace.push(worktree, { lease: { expectedSha: first } });

    expect(stale).toEqual({ kind: 'rejected', reason: 'stale info' });
    expect((await sandbox.remoteLog('agent/issue-5-y'))[0]?.sha).toBe(someoneElse);

    expect(await workspace.push(worktree, { lease: { expectedSha: someoneElse } })).toEqual({ kind: 'pushed', sha: second });
    expect((await sandbox.remoteLog('agent/issue-5-y')).map((c) => c.subject)).toEqual(['Two', 'One', 'Initial commit']);
  });

  it('is rejected when a lease says the branch must be new but it exists', async () => {
    await sandbox.commitToRemote('agent/issue-5-y', { 'other.txt': 'theirs\n' }, 'Theirs');
    await editAndCommit(worktree, { 'fix.txt': 'one\n' }, 'One');

    expect(await workspace.push(worktree, { lease: { expectedSha: null } })).toEqual({ kind: 'rejected', reason: 'stale info' });
  });

  it('is rejected when the push is not a fast-forward and not forced', async () => {
    await sandbox.commitToRemote('agent/issue-5-y', { 'other.txt': 'theirs\n' }, 'Theirs');
    const mine = await editAndCommit(worktree, { 'fix.txt': 'one\n' }, 'One');

    expect(await workspace.push(worktree)).toEqual({ kind: 'rejected', reason: 'fetch first' });
    expect(await workspace.push(worktree, { force: true })).toEqual({ kind: 'pushed', sha: mine });
  });

  it('knows where the remote branch was at the last sync or push, as a lease expectation', async () => {
    expect(await workspace.remoteBranchSha(worktree, 'agent/issue-5-y')).toBeNull();
    const first = await editAndCommit(worktree, { 'fix.txt': 'one\n' }, 'One');
    await workspace.push(worktree, { lease: { expectedSha: await workspace.remoteBranchSha(worktree, worktree.branch) } });
    expect(await workspace.remoteBranchSha(worktree, 'agent/issue-5-y')).toBe(first);
    const theirs = await sandbox.commitToRemote('agent/issue-5-y', { 'other.txt': 'theirs\n' }, 'Theirs');
    await workspace.sync(repo);
    expect(await workspace.remoteBranchSha(repo, 'agent/issue-5-y')).toBe(theirs);
  });

  it('refuses to push a branch outside agent/', async () => {
    const main = await workspace.addWorktree(repo, { name: 'main', branch: 'main', startPoint: 'origin/main' });
    await editAndCommit(main, { 'sneaky.txt': 'no\n' }, 'Sneaky');

    await expect(workspace.push(main, { force: true })).rejects.toThrow('refusing to push main');
    expect((await sandbox.remoteLog('main')).map((c) => c.subject)).toEqual(['Initial commit']);
  });
});

describe('Workspace.recycleWorktree', () => {
  it('hands a finished worktree to the next job wiped clean, on the new branch and start point', async () => {
    await workspace.sync(repo);
    const first = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1', startPoint: 'origin/main' });
    await editAndCommit(first, { 'one.txt': 'one\n' }, 'First job');
    await fs.writeFile(path.join(first.dir, 'untracked.txt'), 'left over\n');
    await fs.mkdir(path.join(first.dir, 'node_modules'));
    await fs.writeFile(path.join(first.dir, '.gitignore'), 'node_modules/\n');
    await workspace.recycleWorktree(first);

    const newMain = await sandbox.commitToRemote('main', { 'fresh.txt': 'fresh\n' }, 'Base moved');
    await workspace.sync(repo);
    const second = await workspace.addWorktree(repo, { name: 'issue-2', branch: 'agent/issue-2', startPoint: 'origin/main' });

    expect(second.dir).toBe(first.dir);
    expect(await gitIn(second.dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('agent/issue-2');
    expect(await headSha(second.dir, { env: sandbox.gitEnv })).toBe(newMain);
    expect(await gitIn(second.dir, 'status', '--porcelain', '--ignored', '--untracked-files=all')).toBe('');
    expect((await fs.readdir(second.dir)).sort()).toEqual(['.git', 'README.md', 'fresh.txt', 'src']);
    expect(await gitIn(workspace.cloneDir(repo), 'branch', '--list', 'agent/issue-1')).toBe('');
  });

  it('hands idle worktrees to jobs that start together, each its own, side by side', async () => {
    await workspace.sync(repo);
    const names = Array.from({ length: 6 }, (_, i) => `issue-${i + 1}`);
    const firstWave = await Promise.all(names.map((name) => workspace.addWorktree(repo, { name, branch: `agent/${name}`, startPoint: 'origin/main' })));
    for (const [i, worktree] of firstWave.entries()) await editAndCommit(worktree, { [`job-${i}.txt`]: 'done\n' }, `Job ${i}`);
    await Promise.all(firstWave.map((worktree) => workspace.recycleWorktree(worktree)));

    const nextWave = await Promise.all(names.map((name) =>
      workspace.addWorktree(repo, { name: `next-${name}`, branch: `agent/next-${name}`, startPoint: 'origin/main' })));

    // every one reused, none twice, each on its own branch and clean at the base
    expect(nextWave.map((w) => w.dir).sort()).toEqual(firstWave.map((w) => w.dir).sort());
    const main = await gitIn(workspace.cloneDir(repo), 'rev-parse', 'refs/remotes/origin/main');
    for (const worktree of nextWave) {
      expect(await gitIn(worktree.dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(worktree.branch);
      expect(await headSha(worktree.dir, { env: sandbox.gitEnv })).toBe(main);
      expect(await gitIn(worktree.dir, 'status', '--porcelain', '--ignored', '--untracked-files=all')).toBe('');
    }
  });

  it('keeps no more idle worktrees than it is allowed to', async () => {
    const strict = new Workspace({ workDir: path.join(sandbox.root, 'strict'), log: pino({ level: 'silent' }), env: sandbox.gitEnv, maxIdleWorktrees: 0 });
    await strict.sync(repo);
    const worktree = await strict.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1', startPoint: 'origin/main' });
    await strict.recycleWorktree(worktree);

    await expect(fs.access(worktree.dir)).rejects.toThrow();
  });
});
