/**
 * `npm run bench`: maps issues on a generated repository of realistic size through the real
 * pipeline (webhook handler, scheduler, cached clone, worktrees, commit, push, PR) with GitHub on
 * the stateful fake and a scripted agent that changes one file after a fixed delay. Prints one JSON
 * object per line per figure.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import nock from 'nock';
import { runGit } from '../src/git/run-git.js';
import { FULL_NAME, startMapHarness, type MapHarness } from '../test/support/map-harness.js';
import { ScriptedAgent, writeOneFile } from '../test/support/scripted-agent.js';
import { print } from './print-figure.js';

const FILES = Number(process.env.BENCH_FILES ?? 5000);
const N = Number(process.env.BENCH_ISSUES ?? 40);
const K = Number(process.env.BENCH_CAP ?? 8);
const T = Number(process.env.BENCH_AGENT_MS ?? 10_000);
const SERIAL_ISSUES = Number(process.env.BENCH_SERIAL_ISSUES ?? 8);


/** A repository of `FILES` files in nested folders, pushed to the harness's bare remote. */
async function generateRepository(h: MapHarness): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-repo-'));
  const git = (...args: string[]) => runGit(args, { cwd: scratch, env: { ...h.sandbox.gitEnv, GIT_ALLOW_PROTOCOL: 'file' } });
  await git('clone', '--quiet', h.sandbox.remoteUrl, '.');
  await git('config', 'gc.auto', '0'); // a background gc would race the clean-up below
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(scratch, 'src', `module-${i % 50}`, `part-${i % 7}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `file-${i}.ts`), `export const value${i} = ${i};\n`.repeat(20));
  }
  await git('add', '-A');
  await git('commit', '--quiet', '-m', `Generate ${FILES} files`);
  await git('push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  await rm(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

/** Issues first, PRs after: the local GitHub numbers them from one sequence, as GitHub does. */
function createIssues(h: MapHarness, first: number, count: number): void {
  for (let n = first; n < first + count; n++) h.github.openIssue(FULL_NAME, { number: n, title: `Benchmark issue ${n}`, by: 'reporter' });
}

/** Labels `count` issues and waits for every run; returns per-job wall and agent times. */
async function mapIssues(h: MapHarness, agent: ScriptedAgent, first: number, count: number) {
  const started = new Map<string, number>();
  const jobTimes: number[] = [];
  h.services.scheduler.onEvent((event) => {
    if (event.kind === 'started') started.set(event.key, performance.now());
    if (event.kind === 'finished' && started.has(event.key)) jobTimes.push(performance.now() - started.get(event.key)!);
  });
  const callsBefore = h.github.calls.length;
  const t0 = performance.now();
  for (let n = first; n < first + count; n++) await h.labelIssue(n, `Benchmark issue ${n}`);
  await h.idle();
  const makespan = performance.now() - t0;
  const prs = h.pulls().filter((p) => {
    const n = Number(/^agent\/issue-(\d+)-/.exec(p.head)?.[1]);
    return n >= first && n < first + count;
  }).length;
  if (prs !== count) throw new Error(`expected ${count} PRs, got ${prs}:\n${h.github.calls.map((c) => `  ${c.method} ${c.path} ${c.status ?? ''}`).join('\n')}`);
  return { makespan, jobTimes, calls: h.github.calls.length - callsBefore, agentRuns: agent.requests.slice(-count) };
}

/** The git commands a run cannot do without, timed bare: worktree add, commit, push. */
async function bareGitSeconds(h: MapHarness, runs: number): Promise<number> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-bare-'));
  const clone = path.join(root, 'clone.git');
  // the remote is a path here, as the app allows for fetch and push
  const env = { ...h.sandbox.gitEnv, GIT_ALLOW_PROTOCOL: 'file' };
  await runGit(['clone', '--quiet', '--bare', h.sandbox.remoteUrl, clone], { cwd: root, env });
  await runGit(['config', 'gc.auto', '0'], { cwd: clone, env });
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const dir = path.join(root, `wt-${i}`);
    const t0 = performance.now();
    await runGit(['worktree', 'add', '--quiet', '--no-track', '-B', `bare-${i}`, dir, 'main'], { cwd: clone, env });
    await writeFile(path.join(dir, `bare-${i}.txt`), 'x\n');
    await runGit(['add', '-A'], { cwd: dir, env });
    await runGit(['commit', '--quiet', '-m', 'bare'], { cwd: dir, env });
    await runGit(['push', '--quiet', h.sandbox.remoteUrl, `HEAD:refs/heads/bare-${i}`], { cwd: dir, env });
    total += performance.now() - t0;
  }
  await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  return total / runs;
}

async function main(): Promise<void> {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)/);

  // 1. overhead: issues one at a time, so that nothing else competes with a run
  const serialAgent = new ScriptedAgent(writeOneFile(200));
  const serial = await startMapHarness({ agent: serialAgent, maxAgents: 1, config: 'map:\n  concurrency: 1\n' });
  await generateRepository(serial);
  createIssues(serial, 1, SERIAL_ISSUES + 1);
  await mapIssues(serial, serialAgent, 1, 1); // warm the cached clone, as a running app has
  const measured = await mapIssues(serial, serialAgent, 2, SERIAL_ISSUES);
  const overhead = measured.jobTimes.map((t) => t - 200).reduce((a, b) => a + b, 0) / measured.jobTimes.length;
  const bare = await bareGitSeconds(serial, SERIAL_ISSUES);
  await serial.stop();
  print('map_overhead_ratio', overhead / bare, {
    overhead_ms_per_issue: Math.round(overhead), bare_git_ms_per_issue: Math.round(bare), files: FILES, issues: SERIAL_ISSUES,
  });

  // 2. parallel efficiency and GitHub calls: N issues under a cap of K
  const agent = new ScriptedAgent(writeOneFile(T));
  // first from a cold start (no clone, no worktree: each of the first K runs checks out every file),
  // then the same again on the running app, whose clone and wiped worktrees are kept for reuse
  const h = await startMapHarness({ agent, maxAgents: K, config: `map:\n  concurrency: ${K}\n` });
  await generateRepository(h);
  createIssues(h, 1, 2 * N);
  const ideal = Math.ceil(N / K) * T;
  const cold = await mapIssues(h, agent, 1, N);
  print('parallel_efficiency_cold', ideal / cold.makespan, {
    ideal_ms: ideal, makespan_ms: Math.round(cold.makespan), issues: N, cap: K, agent_ms: T, files: FILES,
  });
  const run = await mapIssues(h, agent, N + 1, N);
  print('parallel_efficiency', ideal / run.makespan, {
    ideal_ms: ideal, makespan_ms: Math.round(run.makespan), issues: N, cap: K, agent_ms: T, max_running: agent.maxRunning, warm: true,
  });
  print('github_calls_per_issue', run.calls / N, { calls: run.calls, issues: N, token_exchange_included: true });
  await h.stop();

  print('peak_rss_mb', process.resourceUsage().maxRSS / 1024, { issues: 2 * N + SERIAL_ISSUES + 1 });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
