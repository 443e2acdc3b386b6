import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Workspace } from '../../src/git/workspace.js';
import { buildConflictGraph, type MergeCache } from '../../src/reduce/conflict-graph.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';

let sandbox: GitSandbox;
let workspace: Workspace;
const repo = { owner: 'o', repo: 'r', cloneUrl: '' };

beforeEach(async () => {
  sandbox = await createGitSandbox();
  repo.cloneUrl = sandbox.remoteUrl;
  workspace = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
});
afterEach(async () => {
  await sandbox.cleanup();
});

async function graphOf(branches: Record<number, string>, cache?: MergeCache) {
  await workspace.sync(repo);
  const clone = workspace.cloneDir(repo);
  const sha = (ref: string) => sandbox.git(clone, 'rev-parse', ref);
  const candidates = await Promise.all(Object.entries(branches).map(async ([n, b]) => ({ number: Number(n), headSha: await sha(`origin/${b}`) })));
  return buildConflictGraph({ cloneDir: clone, baseSha: await sha('origin/main'), candidates, env: sandbox.gitEnv, ...(cache ? { cache } : {}) });
}

describe('buildConflictGraph', () => {
  it('finds the pair that edits the same lines, and only that pair', async () => {
    await sandbox.commitToRemote('main', { 'shared.txt': 'one\ntwo\nthree\n', 'other.txt': 'x\n' }, 'Base');
    await sandbox.commitToRemote('agent/issue-1-a', { 'shared.txt': 'one\nTWO from A\nthree\n' }, 'A');
    await sandbox.commitToRemote('agent/issue-2-b', { 'b.txt': 'b\n' }, 'B');
    await sandbox.commitToRemote('agent/issue-3-c', { 'shared.txt': 'one\nTWO from C\nthree\n' }, 'C');
    await sandbox.commitToRemote('agent/issue-4-d', { 'shared.txt': 'one\ntwo\nthree\nfour from D\n', 'other.txt': 'y\n' }, 'D');

    const graph = await graphOf({ 11: 'agent/issue-1-a', 12: 'agent/issue-2-b', 13: 'agent/issue-3-c', 14: 'agent/issue-4-d' });

    expect(graph.withBase.size).toBe(0);
    expect(graph.pairs).toEqual([
      { a: 11, b: 13, files: ['shared.txt'], messages: ['CONFLICT (content): Merge conflict in shared.txt'] },
    ]);
  });

  it('does not blame a fresh branch for a stale one’s conflict with the base', async () => {
    await sandbox.commitToRemote('main', { 'f.txt': 'line\n' }, 'Base');
    await sandbox.commitToRemote('agent/issue-1-stale', { 'f.txt': 'stale edit\n' }, 'Stale');
    await sandbox.commitToRemote('main', { 'f.txt': 'base moved\n' }, 'Base moves');
    await sandbox.commitToRemote('agent/issue-2-fresh', { 'g.txt': 'fresh\n' }, 'Fresh');

    const graph = await graphOf({ 21: 'agent/issue-1-stale', 22: 'agent/issue-2-fresh' });

    expect(graph.pairs).toEqual([]);
    expect([...graph.withBase]).toEqual([[21, { files: ['f.txt'], messages: ['CONFLICT (content): Merge conflict in f.txt'] }]]);
    // a naive merge of the two branches would have called it a conflict between them
    const naive = await sandbox.git(workspace.cloneDir(repo), 'merge-tree', '--write-tree', '--name-only', 'origin/agent/issue-1-stale', 'origin/agent/issue-2-fresh')
      .then(() => 'clean', () => 'conflict');
    expect(naive).toBe('conflict');
  });

  it('merges nothing again for heads it has seen', async () => {
    await sandbox.commitToRemote('main', { 'shared.txt': 'a\n' }, 'Base');
    await sandbox.commitToRemote('agent/issue-1-x', { 'shared.txt': 'x\n' }, 'X');
    await sandbox.commitToRemote('agent/issue-2-y', { 'shared.txt': 'y\n' }, 'Y');
    const cache: MergeCache = new Map();

    const first = await graphOf({ 1: 'agent/issue-1-x', 2: 'agent/issue-2-y' }, cache);
    const merges = cache.size;
    const second = await graphOf({ 1: 'agent/issue-1-x', 2: 'agent/issue-2-y' }, cache);

    // both heads are on the base tip, so only their pair needed a merge
    expect(merges).toBe(1);
    expect(cache.size).toBe(1);
    expect(second).toEqual(first);
    expect(first.pairs.map((p) => [p.a, p.b])).toEqual([[1, 2]]);
  });
});
