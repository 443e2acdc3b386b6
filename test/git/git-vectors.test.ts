/**
 * SANDBOX.md §3 and probe 10: config planted where a command could once reach it must not run code
 * inside the app's own git calls (which carry the token on push and fetch).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Workspace } from '../../src/git/workspace.js';
import { changedFiles, commitAll } from '../../src/git/worktree-git.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import type { Worktree } from '../../src/git/worktree.js';

const BOT = { name: 'agent-mapreduce[bot]', email: '1+agent-mapreduce[bot]@users.noreply.github.com' };

let git: GitSandbox;
let workspace: Workspace;
let worktree: Worktree;
let fired: string;
const repo = () => ({ owner: 'octo', repo: 'app', cloneUrl: git.remoteUrl });

beforeEach(async () => {
  git = await createGitSandbox();
  fired = path.join(git.root, 'fired');
  await fs.mkdir(fired);
  // the app user's own ~/.gitconfig, as writable as anything of that user: never read
  const home = path.join(git.root, 'app-home');
  await fs.mkdir(home);
  await fs.writeFile(path.join(home, '.gitconfig'), `[core]\n\tfsmonitor = "touch ${fired}/home-gitconfig; false"\n`);
  const { GIT_CONFIG_GLOBAL: _global, ...env } = git.gitEnv;
  workspace = new Workspace({ workDir: path.join(git.root, 'work'), log: pino({ level: 'silent' }), env: { ...env, HOME: home } });
  await workspace.sync(repo());
  worktree = await workspace.addWorktree(repo(), { name: 'issue-1', branch: 'agent/issue-1', startPoint: 'origin/main' });
});

afterEach(async () => {
  await git.cleanup();
});

const firedSoFar = async () => (await fs.readdir(fired)).sort();
const cloneConfig = () => path.join(worktree.cloneDir, 'config');

async function plantInCloneConfig(lines: string): Promise<void> {
  await fs.appendFile(cloneConfig(), lines);
}

describe("the app's own git", () => {
  it('ignores the app user\'s ~/.gitconfig through status, commit, push, fetch and recycling', async () => {
    await fs.writeFile(path.join(worktree.dir, 'a.txt'), 'a\n');
    expect(await changedFiles(worktree.dir)).toEqual(['a.txt']);
    expect(await commitAll(worktree.dir, { message: 'a', author: BOT })).not.toBeNull();
    expect(await workspace.push(worktree)).toMatchObject({ kind: 'pushed' });
    await workspace.sync(repo());
    await workspace.recycleWorktree(worktree);
    expect(await firedSoFar()).toEqual([]);
  });

  it.each([
    ['core.fsmonitor', (f: string) => `[core]\n\tfsmonitor = "touch ${f}/fsmonitor; false"\n`],
    ['a filter driver', (f: string) => `[filter "evil"]\n\tclean = "touch ${f}/filter; cat"\n\tsmudge = "touch ${f}/filter; cat"\n`],
    ['protocol.ext with url.insteadOf', (f: string) => `[protocol "ext"]\n\tallow = always\n[url "ext::sh -c touch% ${f}/ext"]\n\tinsteadOf = ${git.remoteUrl}\n`],
    ['an include', (f: string) => `[include]\n\tpath = ${f}/../included\n`],
    ['a line git cannot parse', (f: string) => `[core]\n\tfsmonitor = "touch ${f}/malformed; false"\n[broken\n`],
  ])('refuses a clone whose config holds %s: nothing fires, and the next sync rebuilds the clone', async (_name, plant) => {
    await fs.writeFile(path.join(git.root, 'included'), `[core]\n\tfsmonitor = "touch ${fired}/include; false"\n`);
    await fs.writeFile(path.join(worktree.dir, '.gitattributes'), '* filter=evil\n');
    await fs.writeFile(path.join(worktree.dir, 'b.txt'), 'b\n');
    await plantInCloneConfig(plant(fired));

    await expect(changedFiles(worktree.dir)).rejects.toThrow(/refusing to use the cached clone .*: its config holds keys the app never writes/);
    await expect(commitAll(worktree.dir, { message: 'b', author: BOT })).rejects.toThrow(/refusing to use the cached clone/);
    await expect(workspace.push(worktree)).rejects.toThrow(/refusing to use the cached clone/);
    await workspace.recycleWorktree(worktree);
    expect(await firedSoFar()).toEqual([]);

    await workspace.sync(repo());
    expect(await fs.readFile(cloneConfig(), 'utf8')).not.toMatch(/fsmonitor|filter|insteadOf|include/);
    const again = await workspace.addWorktree(repo(), { name: 'issue-2', branch: 'agent/issue-2', startPoint: 'origin/main' });
    await fs.writeFile(path.join(again.dir, 'c.txt'), 'c\n');
    expect(await changedFiles(again.dir)).toEqual(['c.txt']);
    expect(await firedSoFar()).toEqual([]);
  });

  it('uses the git dir recorded when the worktree was made, not a rewritten .git file', async () => {
    // a git dir of the command's own making, with an fsmonitor in its config
    const evil = path.join(worktree.dir, 'evil-git');
    await git.git(git.root, 'init', '--quiet', '--bare', evil);
    await fs.appendFile(path.join(evil, 'config'), `[core]\n\tfsmonitor = "touch ${fired}/dot-git-file; false"\n\tbare = false\n`);
    await fs.writeFile(path.join(worktree.dir, '.git'), `gitdir: ${evil}\n`);
    await fs.writeFile(path.join(worktree.dir, 'd.txt'), 'd\n');

    const files = await changedFiles(worktree.dir);
    expect(files).toContain('d.txt');
    const sha = await commitAll(worktree.dir, { message: 'd', author: BOT });
    expect(await workspace.push(worktree)).toEqual({ kind: 'pushed', sha });
    expect(await git.readRemoteFile('agent/issue-1', 'd.txt')).toBe('d\n');
    expect(await firedSoFar()).toEqual([]);
  });
});
