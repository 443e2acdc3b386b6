/**
 * The merge-train figures of `npm run bench`: 10 approved agent PRs with required checks, on the
 * local GitHub with simulated CI of T seconds per run, merged by the app behind Probot's server (in
 * this process, Octokit's pacing off so that the figures are the merge strategy's, not the HTTP
 * client's). For each scenario (all green; one PR that breaks on the current base) it prints
 * `train_ci_runs_per_pr` and `train_makespan_ci` (from all approved to all merged, in units of T)
 * for trains (`batchSize: 10`) and, as the baseline in the same run, for one PR at a time
 * (`batchSize: 1`: rebase, wait for its CI, merge, next); then the broken scenario again with a check
 * that names no file. BENCH_ONLY=train|serial|train-broken|serial-broken|train-broken-silent runs one
 * scenario; BENCH_TRACE=1 prints each CI run (branch, start and end in seconds) to stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Probot, Server } from 'probot';
import { createApp } from '../src/index.js';
import type { Services } from '../src/services.js';
import { planTrains, type TrainsNow } from '../src/reduce/plan-trains.js';
import type { Train } from '../src/reduce/train.js';
import { LocalGitHub } from '../test/support/local-github/local-github.js';
import { SimulatedCi } from '../test/support/local-github/simulated-ci.js';
import { TestOctokit, testSettings } from '../test/support/test-probot.js';
import { freePort } from '../test/support/free-port.js';
import { print } from './print-figure.js';

const T = Number(process.env.BENCH_CI_SECONDS ?? 8);
const PRS = Number(process.env.BENCH_TRAIN_PRS ?? 10);
const REPO = 'bench-org/trains';



async function waitFor(what: string, check: () => boolean, ms: number): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `broken`: one PR breaks the batch on the current base. `named`: its failing check names the PR's
 * file in a failure annotation, as a linter or type checker does; otherwise the check says nothing
 * of where, and the bisection goes by colours alone.
 */
async function scenario(mode: 'train' | 'serial', broken: boolean, named = true): Promise<void> {
  const github = await LocalGitHub.start();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'train-bench-'));
  const port = await freePort();
  const server = new Server({
    host: '127.0.0.1', port,
    Probot: Probot.defaults({
      appId: github.appId, privateKey: github.privateKey, secret: github.webhookSecret,
      Octokit: TestOctokit.defaults({ baseUrl: `${github.url}/api/v3` }), logLevel: process.env.BENCH_TRACE ? 'info' : 'fatal',
    }),
    log: pino({ level: process.env.BENCH_TRACE ? 'info' : 'silent' }), loggingOptions: { autoLogging: false },
  });
  let services: Services | undefined;
  await server.load(createApp(testSettings({ appId: github.appId, workDir }), { background: false, onServices: (s) => (services = s) }));
  await server.start();
  github.webhooks.url = `http://127.0.0.1:${port}/api/github/webhooks`;
  const ci = new SimulatedCi(github, {
    seconds: T, failWhen: ['broken.txt', 'strict.txt'],
    failure: () => ({
      summary: 'broken.txt breaks a rule of strict.txt',
      annotations: named ? [{ path: 'broken.txt', line: 1, level: 'failure', message: 'breaks a rule of strict.txt' }] : [],
    }),
  });
  try {
    await github.createRepository(REPO, { 'README.md': '# Trains\n', '.github/agent-mapreduce.yml': `reduce:\n  batchSize: ${mode === 'train' ? PRS : 1}\n` });
    github.grant(REPO, 'maintainer', 'write');
    const pulls: number[] = [];
    // the broken one in the middle of the order (train_bisect_* give every position)
    const brokenAt = broken ? Math.floor(PRS / 2) - 1 : -1;
    for (let i = 0; i < PRS; i++) {
      const file = i === brokenAt ? 'broken.txt' : `f${i}.txt`;
      await github.commit(REPO, `agent/issue-${i + 1}-change-${i}`, { [file]: `${i}\n` }, `Change ${i}`, { from: 'main', quiet: false });
      pulls.push(await github.openPull(REPO, { head: `agent/issue-${i + 1}-change-${i}`, title: `Change ${i}`, by: 'agent-mapreduce[bot]' }));
    }
    // each PR green on its own head; then the base gets stricter, which only the broken PR trips over
    if (broken) await github.commit(REPO, 'main', { 'strict.txt': 'stricter\n' }, 'Stricter checks');
    await waitFor('CI on the PRs', () => ci.running === 0, 60_000);
    // the passes the PRs' own CI started must be over, or one of them reads half the approvals
    await services!.reduce.idle();
    const runsBefore = ci.runs.length;
    // all ten approved before the app hears of any: otherwise the first approval's pass starts a train of one
    github.webhooks.hold = true;
    for (const n of pulls) github.review(REPO, n, { state: 'APPROVED', body: 'ok' });
    github.webhooks.hold = false;
    const started = Date.now();
    for (const delivery of github.webhooks.deliveries.filter((d) => d.outcome === 'held')) void github.webhooks.redeliver(delivery);
    const good = pulls.filter((_, i) => i !== brokenAt);
    await waitFor('every good PR merged', () => good.every((n) => github.issue(REPO, n).pull!.merged), 40 * T * 1000 + 120_000);
    const makespan = (Date.now() - started) / 1000 / T;
    if (process.env.BENCH_TRACE) {
      for (const r of ci.runs.slice(runsBefore)) console.error(r.branch, ((r.startedAt - started) / 1000).toFixed(1), (((r.finishedAt ?? 0) - started) / 1000).toFixed(1), r.conclusion);
    }
    const runs = ci.runs.slice(runsBefore).filter((r) => r.branch !== 'main').length;
    const scenarioName = !broken ? 'all green' : named ? 'one broken PR, its file named by the failing check' : 'one broken PR, the failing check naming no file';
    const context = { mode, scenario: scenarioName, prs: PRS, ci_seconds: T, batch_size: mode === 'train' ? PRS : 1 };
    print('train_ci_runs_per_pr', runs / PRS, { ...context, ci_runs: runs });
    print('train_makespan_ci', makespan, context);
    if (github.problems.length > 0) throw new Error(`the local GitHub saw calls GitHub would refuse:\n${github.problems.join('\n')}`);
  } finally {
    ci.stop();
    await server.stop();
    await github.close();
    await rm(workDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/**
 * The bisection alone, over every position of the one broken PR in a batch of `PRS`: the planner
 * driven round by round with CI answering at once (red whenever the train holds the broken PR).
 * Prints the CI runs and rounds (units of T) from approval to the last merge, average and worst.
 */
function bisectAcrossPositions(): void {
  const sha = (n: number) => n.toString(16).padStart(40, '0');
  const outcomes: Array<{ runs: number; rounds: number }> = [];
  for (let culprit = 1; culprit <= PRS; culprit++) {
    const eligible = new Map(Array.from({ length: PRS }, (_, i) => [i + 1, sha(i + 1)]));
    let base = 1_000;
    let trains: TrainsNow['trains'] = [];
    let next = 1;
    let runs = 0;
    let rounds = 0;
    for (let guard = 0; guard < 50; guard++) {
      const plan = planTrains({ baseSha: sha(base), baseFailed: [], trains, eligible, nextBatch: [...eligible.keys()] });
      if (plan.land) {
        for (const m of plan.land.members) eligible.delete(m.number);
        base += 1;
      }
      for (const { pull } of plan.blame) eligible.delete(pull);
      trains = plan.build.map(({ pulls, bisect }) => {
        const train: Train = { number: next, branch: `t/${next++}`, sha: sha(0), baseSha: sha(base), members: pulls.map((n) => ({ number: n, headSha: sha(n) })), ...(bisect ? { bisect } : {}) };
        return { train, ci: pulls.includes(culprit) ? { state: 'failure' as const, failed: ['ci'] } : { state: 'success' as const, failed: [] } };
      });
      runs += trains.length;
      if (trains.length > 0) rounds += 1;
      if (trains.length === 0 && !plan.land) break;
    }
    outcomes.push({ runs, rounds });
  }
  const context = { prs: PRS, broken: 1, positions: PRS, strategy: 'the trains of a round spell the culprit in binary, at most two suspects left per answer' };
  const avg = (f: (o: { runs: number; rounds: number }) => number) => outcomes.reduce((sum, o) => sum + f(o), 0) / outcomes.length;
  print('train_bisect_ci_runs_avg', avg((o) => o.runs), context);
  print('train_bisect_ci_runs_worst', Math.max(...outcomes.map((o) => o.runs)), context);
  print('train_bisect_rounds_avg', avg((o) => o.rounds), context);
  print('train_bisect_rounds_worst', Math.max(...outcomes.map((o) => o.rounds)), context);
}

async function main(): Promise<void> {
  bisectAcrossPositions();
  const only = (name: string) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY === name;
  for (const broken of [false, true]) {
    for (const mode of ['train', 'serial'] as const) {
      if (only(`${mode}${broken ? '-broken' : ''}`)) await scenario(mode, broken);
    }
  }
  // the bisection by colours alone, end to end (the serial baseline does not read annotations)
  if (only('train-broken-silent')) await scenario('train', true, false);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
