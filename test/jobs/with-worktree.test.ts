import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Workspace } from '../../src/git/workspace.js';
import { withWorktree } from '../../src/jobs/with-worktree.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';

let git: GitSandbox;
let workspace: Workspace;
const log = pino({ level: 'silent' });
const repo = () => ({ owner: 'o', repo: 'r', cloneUrl: git.remoteUrl });

beforeEach(async () => {
  git = await createGitSandbox();
  workspace = new Workspace({ workDir: path.join(git.root, 'work'), log, env: git.gitEnv });
  await workspace.sync(repo());
});

afterEach(async () => {
  await git.cleanup();
});

const acquire = (name: string) => async () => ({
  worktree: await workspace.addWorktree(repo(), { name, branch: `agent/${name}`, startPoint: 'origin/main' }),
});

describe('withWorktree', () => {
  it('keeps the worktree of work that returned, wiped, and hands it to the next job', async () => {
    let used = '';
    const outcome = await withWorktree(workspace, acquire('issue-1'), async ({ worktree }) => {
      used = worktree.dir;
      await fs.writeFile(path.join(worktree.dir, 'left-behind.txt'), 'x');
      return 'done';
    }, { log });
    expect(outcome).toBe('done');
    expect(existsSync(path.join(used, 'left-behind.txt'))).toBe(false);
    const next = await acquire('issue-2')();
    expect(next.worktree.dir).toBe(used);
  });

  it('removes the worktree of work that threw, and the error stands', async () => {
    let used = '';
    await expect(withWorktree(workspace, acquire('issue-3'), async ({ worktree }) => {
      used = worktree.dir;
      throw new Error('the agent broke');
    }, { log })).rejects.toThrow('the agent broke');
    expect(existsSync(used)).toBe(false);
  });

  it('removes the worktree of a job that was cancelled, even if its work returned', async () => {
    const controller = new AbortController();
    let used = '';
    await withWorktree(workspace, acquire('issue-4'), async ({ worktree }) => {
      used = worktree.dir;
      controller.abort();
      return 'cancelled';
    }, { log, signal: controller.signal });
    expect(existsSync(used)).toBe(false);
  });
});
