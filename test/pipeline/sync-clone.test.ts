import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { GitHub } from '../../src/github/port.js';
import { Workspace } from '../../src/git/workspace.js';
import { syncClone } from '../../src/pipeline/sync-clone.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';

let sandbox: GitSandbox;
let workspace: Workspace;
let repo: { owner: string; repo: string; cloneUrl: string };

beforeEach(async () => {
  sandbox = await createGitSandbox();
  workspace = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
  repo = { owner: 'octo', repo: 'app', cloneUrl: sandbox.remoteUrl };
});

afterEach(async () => {
  await sandbox.cleanup();
});

/**
 * The GitHub port's token step alone: counts the fetches, and keeps the first under way after git
 * fetched (`fetched`) until `release`, so that a push can land while it is still running.
 */
function tokens(): { github: GitHub; fetches: () => number; headReads: () => number; fetched: Promise<void>; release: () => void } {
  let fetches = 0;
  let headReads = 0;
  let release!: () => void;
  let done!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const fetched = new Promise<void>((resolve) => {
    done = resolve;
  });
  const github = {
    owner: repo.owner,
    repo: repo.repo,
    branchHeads: () => {
      headReads += 1;
      return remoteHeads();
    },
    async withGitToken<T>(_access: 'read' | 'write', use: (token: string) => Promise<T>): Promise<T> {
      fetches += 1;
      const result = await use('');
      if (fetches === 1) {
        done();
        await held;
      }
      return result;
    },
  } as unknown as GitHub;
  return { github, fetches: () => fetches, headReads: () => headReads, fetched, release };
}

/** The remote's branches with their tips, as GitHub's `git/matching-refs/heads/` tells them. */
async function remoteHeads(): Promise<Map<string, string>> {
  const out = await sandbox.git(sandbox.root, 'ls-remote', '--heads', sandbox.remoteUrl);
  return new Map(out.split('\n').filter(Boolean).map((line) => {
    const [sha = '', ref = ''] = line.split('\t');
    return [ref.slice('refs/heads/'.length), sha] as const;
  }));
}

const remoteMain = () => sandbox.git(workspace.cloneDir(repo), 'rev-parse', 'refs/remotes/origin/main');

describe('syncClone', () => {
  it('lets jobs that start during a fetch share the one after it, which sees what was pushed meanwhile', async () => {
    const { github, fetches, fetched, release } = tokens();
    const first = syncClone(github, workspace, repo);
    await fetched;
    // pushed after the first fetch read the remote, while it is still under way: the callers below must see it
    const pushed = await sandbox.commitToRemote('main', { 'late.txt': 'late\n' }, 'Late');
    const wave = Array.from({ length: 6 }, () => syncClone(github, workspace, repo));
    release();
    await Promise.all([first, ...wave]);

    expect(fetches()).toBe(2);
    expect(await remoteMain()).toBe(pushed);

    // with nothing under way, the next call looks again: the clone has every branch as it is, so no fetch
    await syncClone(github, workspace, repo);
    expect(fetches()).toBe(2);
  });

  it('serves a call that accepts a fetch started since a moment from the last such fetch, and fetches for one asked after it', async () => {
    const { github, fetches, release } = tokens();
    release();
    const before = Date.now();
    await syncClone(github, workspace, repo);
    expect(fetches()).toBe(1);

    // a run queued before that fetch started (its base may be as old as its request) shares it
    await syncClone(github, workspace, repo, { startedSince: before - 1_000 });
    expect(fetches()).toBe(1);

    // a run asked for after it (a blocker merged meanwhile) gets a fetch of its own, which sees the push
    const pushed = await sandbox.commitToRemote('main', { 'after.txt': 'after\n' }, 'After');
    await syncClone(github, workspace, repo, { startedSince: Date.now() });
    expect(fetches()).toBe(2);
    expect(await remoteMain()).toBe(pushed);
  });
  it('takes no token and fetches nothing while the clone has GitHub\'s branches as they are, and fetches once one moved, appeared or went', async () => {
    const { github, fetches, headReads, release } = tokens();
    release();
    // a clone not set up yet is fetched without asking GitHub for its branches first
    await syncClone(github, workspace, repo);
    expect([fetches(), headReads()]).toEqual([1, 0]);
    await syncClone(github, workspace, repo);
    await syncClone(github, workspace, repo);
    expect([fetches(), headReads()]).toEqual([1, 2]);

    const moved = await sandbox.commitToRemote('main', { 'b.txt': 'b\n' }, 'Move main');
    await syncClone(github, workspace, repo);
    expect(fetches()).toBe(2);
    expect(await remoteMain()).toBe(moved);

    const added = await sandbox.commitToRemote('feature', { 'c.txt': 'c\n' }, 'A branch');
    await syncClone(github, workspace, repo);
    expect(fetches()).toBe(3);
    expect(await workspace.remoteBranchSha(repo, 'feature')).toBe(added);
    await syncClone(github, workspace, repo);
    expect(fetches()).toBe(3);

    await sandbox.git(sandbox.remoteUrl, 'branch', '--quiet', '-D', 'feature');
    await syncClone(github, workspace, repo);
    expect(fetches()).toBe(4);
    expect(await workspace.remoteBranchSha(repo, 'feature')).toBeNull();
  });

  it('fetches when GitHub does not answer for its branches, and for a clone another process set up', async () => {
    const { github, fetches, headReads, release } = tokens();
    release();
    await syncClone(github, workspace, repo);
    const unanswered = { ...github, owner: repo.owner, repo: repo.repo, branchHeads: () => Promise.reject(new Error('GitHub is down')) } as GitHub;
    await syncClone(unanswered, workspace, repo);
    expect(fetches()).toBe(2);
    // the same folder, a new process: it has not set the clone up, so it does not trust its config yet
    const restarted = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
    const asked = headReads();
    await syncClone(github, restarted, repo);
    expect([fetches(), headReads()]).toEqual([3, asked]);
    await syncClone(github, restarted, repo);
    expect(fetches()).toBe(3);
  });
});
