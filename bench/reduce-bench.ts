/**
 * The reduce figures of `npm run bench`: how long the conflict graph of 100 PR branches takes on a
 * repository of 5,000 files, and how many GitHub requests a merge costs through the real pass.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import nock from 'nock';
import { pino } from 'pino';
import { notifyingWrite } from '../src/github/write-budget.js';
import { runGit } from '../src/git/run-git.js';
import { Workspace } from '../src/git/workspace.js';
import { buildConflictGraph } from '../src/reduce/conflict-graph.js';
import { createGitSandbox } from '../test/support/git-sandbox.js';
import { FULL_NAME, startMapHarness } from '../test/support/map-harness.js';
import { ScriptedAgent, usage } from '../test/support/scripted-agent.js';
import { print } from './print-figure.js';

const FILES = Number(process.env.BENCH_FILES ?? 5000);
const BRANCHES = Number(process.env.BENCH_BRANCHES ?? 100);
const MERGES = Number(process.env.BENCH_MERGES ?? 20);


async function conflictGraphMs(): Promise<void> {
  const sandbox = await createGitSandbox();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-graph-'));
  const git = (...args: string[]) => runGit(args, { cwd: scratch, env: { ...sandbox.gitEnv, GIT_ALLOW_PROTOCOL: 'file' } });
  await git('clone', '--quiet', sandbox.remoteUrl, '.');
  await git('config', 'gc.auto', '0');
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(scratch, 'src', `module-${i % 50}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `file-${i}.ts`), Array.from({ length: 30 }, (_, l) => `export const v${i}_${l} = ${l};`).join('\n') + '\n');
  }
  await git('add', '-A');
  await git('commit', '--quiet', '-m', 'Generate');
  await git('push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  // a third of the branches edit one of five shared files (some on the same lines), the rest a file of their own
  for (let b = 0; b < BRANCHES; b++) {
    await git('checkout', '--quiet', '-B', `agent/issue-${b + 1}-x`, 'origin/main');
    const shared = b % 3 === 0;
    const file = shared ? `src/module-0/file-${(b / 3) % 5 * 50}.ts` : `src/module-${b % 50}/file-${1000 + b}.ts`;
    const line = shared ? (b % 2) * 10 : 0;
    const full = path.join(scratch, file);
    const lines = (await readFile(full, 'utf8')).split('\n');
    lines[line] = `export const changedBy${b} = ${b};`;
    await writeFile(full, lines.join('\n'));
    await git('commit', '--quiet', '-am', `Branch ${b}`);
    await git('push', '--quiet', 'origin', `HEAD:refs/heads/agent/issue-${b + 1}-x`);
  }
  const workspace = new Workspace({ workDir: path.join(sandbox.root, 'work'), log: pino({ level: 'silent' }), env: sandbox.gitEnv });
  const repo = { owner: 'o', repo: 'r', cloneUrl: sandbox.remoteUrl };
  await workspace.sync(repo);
  const clone = workspace.cloneDir(repo);
  const sha = async (ref: string) => (await runGit(['rev-parse', ref], { cwd: clone, env: sandbox.gitEnv })).trim();
  const candidates = await Promise.all(Array.from({ length: BRANCHES }, async (_, b) => ({ number: b + 1, headSha: await sha(`origin/agent/issue-${b + 1}-x`) })));
  const baseSha = await sha('origin/main');

  const t0 = performance.now();
  const graph = await buildConflictGraph({ cloneDir: clone, baseSha, candidates, env: sandbox.gitEnv });
  const ms = performance.now() - t0;
  print('conflict_graph_ms', ms, { branches: BRANCHES, files: FILES, conflicting_pairs: graph.pairs.length, conflicting_with_base: graph.withBase.size });
  await rm(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  await sandbox.cleanup();
}

async function reduceCallsPerMerge(): Promise<void> {
  const agent = new ScriptedAgent(async (request, n) => {
    await writeFile(path.join(request.worktree, `own-${n}.txt`), `${n}\n`);
    return { outcome: 'changed', summary: 'ok', usage: usage() };
  });
  // without required checks: with them, every PR rebased after a merge waits for its new checks, and
  // the passes those events start re-read every candidate (see the README)
  const h = await startMapHarness({ agent, config: 'reduce:\n  requireChecks: false\n' });
  for (let n = 1; n <= MERGES; n++) h.github.openIssue(FULL_NAME, { number: n, title: `Merge ${n}`, by: 'reporter' });
  for (let n = 1; n <= MERGES; n++) await h.labelIssue(n, `Merge ${n}`);
  await h.idle();
  // every PR approved on its head; after each merge the next is rebased (clean, patch-id kept) and merged
  for (const pull of h.pulls()) h.recordReview(pull.number, { state: 'approved', body: 'ok' });
  const before = h.github.calls.length;
  await h.review(h.pulls()[0]!.number, { state: 'approved', body: 'ok', by: 'admin' });
  await h.idle();
  const merges = h.merges().length;
  const calls = h.github.calls.slice(before);
  print('reduce_calls_per_merge', calls.length / Math.max(1, merges), {
    calls: calls.length, merges, prs: MERGES, require_checks: false,
  });
  await h.stop();
}

/**
 * 20 PRs approved and merged one after another, each approval its own pass: every pass re-reads every
 * open candidate, so reads would grow with the open PRs; conditional reads answered 304 do not count
 * against GitHub's primary limit, so `reads_per_merge` counts the others.
 */
async function readsPerMerge(): Promise<void> {
  const agent = new ScriptedAgent(async (request, n) => {
    await writeFile(path.join(request.worktree, `own-${n}.txt`), `${n}\n`);
    return { outcome: 'changed', summary: 'ok', usage: usage() };
  });
  const h = await startMapHarness({ agent, config: 'reduce:\n  requireChecks: false\n' });
  for (let n = 1; n <= MERGES; n++) h.github.openIssue(FULL_NAME, { number: n, title: `Merge ${n}`, by: 'reporter' });
  const labelled = h.github.calls.length;
  for (let n = 1; n <= MERGES; n++) await h.labelIssue(n, `Merge ${n}`);
  await h.idle();
  const before = h.github.calls.length;
  for (const pull of h.pulls()) {
    await h.review(pull.number, { state: 'approved', body: 'ok', by: 'admin' });
    await h.idle();
  }
  const reads = h.github.calls.slice(before).filter((c) => c.method === 'GET');
  const counted = reads.filter((c) => c.status !== 304);
  const merges = h.merges().length;
  print('reads_per_merge', counted.length / Math.max(1, merges), {
    reads: reads.length, not_modified: reads.length - counted.length, merges, prs: MERGES, require_checks: false,
  });
  // label → merged, every issue: what GitHub's secondary limit (500 content-creating requests an hour) allows
  const all = h.github.calls.slice(labelled);
  const notifying = all.filter((c) => notifyingWrite(c.method, c.path) !== null).length / MERGES;
  const primaryCalls = all.filter((c) => c.status !== 304).length / MERGES;
  print('notifying_writes_per_issue', notifying, { issues: MERGES, kinds: countKinds(all) });
  // BENCH_TRACE=1: the calls by operation
  if (process.env.BENCH_TRACE) console.error(countOps(all.filter((c) => c.status !== 304)));
  print('issues_per_hour_at_limit', 500 / notifying, { secondary_limit_per_hour: 500, primary_bound: Math.floor(5000 / primaryCalls), primary_limit_per_hour: 5000 });
  await h.stop();
}

function countOps(calls: Array<{ operation: string }>): Record<string, number> {
  const ops: Record<string, number> = {};
  for (const c of calls) ops[c.operation] = (ops[c.operation] ?? 0) + 1;
  return ops;
}

function countKinds(calls: Array<{ method: string; path: string }>): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const call of calls) {
    const kind = notifyingWrite(call.method, call.path);
    if (kind) kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

async function main(): Promise<void> {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)/);
  // BENCH_ONLY=graph|calls|reads runs one of them
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'graph') await conflictGraphMs();
  if (!only || only === 'calls') await reduceCallsPerMerge();
  if (!only || only === 'reads') await readsPerMerge();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
