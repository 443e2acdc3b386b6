/**
 * `npm run bench -- --fleet`: a fleet on this machine against the local GitHub — a Redis server, one
 * web process (ROLE=web) that GitHub's webhooks reach and 4 workers (ROLE=worker) — with the built-in
 * agent on the scripted model, each of its turns taking T/2 (an issue is two turns: its edit and its
 * finish). Figures:
 * - `fleet_enqueue_ms`: the web process taking 1,000 labelled issues (every delivery answered);
 * - `fleet_efficiency`: 200 issues across 40 repositories under a fleet cap of 16 and a per-repository
 *   cap of 2, ideal makespan ÷ measured; then the same issues on one process without Redis at the same
 *   caps, as the baseline (`fleet_baseline_efficiency`).
 * The fleet's figure says how many clones its workers made (locality: one per repository is ideal).
 * Both say where the time beyond the ideal went (`lostTime`).
 * The caps are checked from the model's own record of each agent's conversation (first turn to last),
 * not from the app's counters; a run above a cap, or an issue without exactly one PR, fails the bench.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readdir } from 'node:fs/promises';
import { issueSettled, startSystem, type System } from '../test/support/app-on-local-github.js';
import type { AppProcess } from '../test/support/app-process.js';
import type { FakeMessagesApi } from '../test/support/fake-messages-api.js';
import type { LocalGitHub } from '../test/support/local-github/local-github.js';
import { startRedis } from '../test/support/redis-server.js';
import { editLine, startScriptedModel } from '../test/support/scripted-model.js';
import { print } from './print-figure.js';

const T = Number(process.env.BENCH_AGENT_MS ?? 10_000);
const REPOS = Number(process.env.BENCH_FLEET_REPOS ?? 40);
const PER_REPO = Number(process.env.BENCH_FLEET_ISSUES_PER_REPO ?? 5);
const FLEET_CAP = 16;
const REPO_CAP = 2;
const WORKERS = 4;
const ENQUEUED = Number(process.env.BENCH_FLEET_ENQUEUED ?? 1000);
/** The write budget raised as a GitHub Enterprise Server admin may: the bench measures the engine, not GitHub's pacing. */
const RAISED_WRITES = { GITHUB_WRITES_PER_MINUTE: '100000', GITHUB_WRITES_PER_HOUR: '1000000' };
const QUIET = { LOG_LEVEL: 'warn' };
/** The app as `npm run bench` compiled it, beside this file. */
const ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.js');

interface Span { repo: string; issue: number; start: number; end: number }

/** 40 repositories of two files each, `maintainer` may write, 2 agents at once in each. */
async function createRepositories(github: LocalGitHub): Promise<Array<{ repo: string; issues: number[] }>> {
  const repos: Array<{ repo: string; issues: number[] }> = [];
  for (let r = 0; r < REPOS; r++) {
    const repo = `octo-org/fleet-${r}`;
    const files: Record<string, string> = { '.github/agent-mapreduce.yml': `map:\n  concurrency: ${REPO_CAP}\n` };
    for (let i = 0; i < PER_REPO; i++) files[`file-${i}.txt`] = `alpha ${i}\n`;
    await github.createRepository(repo, files);
    github.grant(repo, 'maintainer', 'write');
    const issues = Array.from({ length: PER_REPO }, (_, i) =>
      github.openIssue(repo, { title: `Change file ${i}`, body: editLine(`file-${i}.txt`, `alpha ${i}`, `omega ${i}`) }));
    repos.push({ repo, issues });
  }
  return repos;
}

/** Labels every issue, a round across all repositories at a time, and waits until each has its PR. */
async function mapAll(system: System, repos: Array<{ repo: string; issues: number[] }>): Promise<{ makespan: number; labelledAt: number }> {
  const { github } = system;
  const labelledAt = Date.now();
  const t0 = performance.now();
  for (let i = 0; i < PER_REPO; i++) for (const { repo, issues } of repos) github.label(repo, issues[i]!, 'agent');
  const deadline = Date.now() + 30 * 60_000;
  while (!repos.every(({ repo, issues }) => issues.every((n) => issueSettled(github, repo, n)))) {
    if (Date.now() > deadline) throw new Error('the issues did not all get their PR within 30 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const makespan = performance.now() - t0;
  const wrong = repos.flatMap(({ repo, issues }) => issues.filter((n) => github.pullsFor(repo, n).length !== 1).map((n) => `${repo}#${n}`));
  if (wrong.length > 0) throw new Error(`issues without exactly one PR: ${wrong.join(', ')}`);
  return { makespan, labelledAt };
}

/** Each agent's work as the model saw it: from the first turn of its conversation to its last. */
function agentSpans(model: FakeMessagesApi): Span[] {
  const spans = new Map<string, Span>();
  for (const request of model.requests) {
    const task = /Resolve issue #(\d+) of (\S+)\./.exec(JSON.stringify(request.body));
    if (!task) continue;
    const key = `${task[2]}#${task[1]}`;
    const span = spans.get(key) ?? { repo: task[2]!, issue: Number(task[1]), start: request.at, end: request.at };
    span.start = Math.min(span.start, request.at);
    span.end = Math.max(span.end, request.at);
    spans.set(key, span);
  }
  return [...spans.values()];
}

/** The most spans open at once. */
function mostAtOnce(spans: Span[]): number {
  const edges = spans.flatMap((s) => [{ at: s.start, d: 1 }, { at: s.end, d: -1 }]).sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (open += edge.d));
  return most;
}

/**
 * Where the time beyond the ideal went, from the model's record (an agent works from its first turn
 * to its last turn's answer, T/2 after that turn was asked): `first_agent_ms` and `full_after_ms`,
 * labelling to the first agent at work and to the cap's worth of them at once (or to the last agent's
 * start, if never that many); `idle_slot_ms`, the free places from then to the last agent's start,
 * summed and divided by the cap (the hand-offs from one agent to the next); `tail_ms`, the last
 * agent's end to the last PR.
 */
function lostTime(spans: Span[], labelledAt: number, makespan: number): Record<string, number> {
  const edges = spans.flatMap((s) => [{ at: s.start, d: 1 }, { at: s.end + T / 2, d: -1 }]).sort((a, b) => a.at - b.at || a.d - b.d);
  const lastStart = Math.max(...spans.map((s) => s.start));
  let open = 0;
  let fullAt: number | undefined;
  let idle = 0;
  let previous = labelledAt;
  for (const edge of edges) {
    if (edge.at > lastStart) break;
    if (fullAt !== undefined) idle += (FLEET_CAP - open) * (edge.at - previous);
    previous = edge.at;
    open += edge.d;
    if (open >= FLEET_CAP && fullAt === undefined) fullAt = edge.at;
  }
  return {
    first_agent_ms: Math.min(...spans.map((s) => s.start)) - labelledAt,
    full_after_ms: (fullAt ?? lastStart) - labelledAt,
    idle_slot_ms: Math.round(idle / FLEET_CAP),
    tail_ms: Math.round(labelledAt + makespan - Math.max(...spans.map((s) => s.end + T / 2))),
  };
}

function checkCaps(label: string, spans: Span[]): { fleet: number; repo: number } {
  const fleet = mostAtOnce(spans);
  const repo = Math.max(...[...new Set(spans.map((s) => s.repo))].map((r) => mostAtOnce(spans.filter((s) => s.repo === r))));
  if (fleet > FLEET_CAP || repo > REPO_CAP) throw new Error(`${label}: ${fleet} agents at once (cap ${FLEET_CAP}), ${repo} in one repository (cap ${REPO_CAP})`);
  return { fleet, repo };
}

/** The web process alone takes ENQUEUED labelled issues; the queued deliveries are then dropped, unrun. */
async function timeEnqueue(system: System, redisUrl: string): Promise<number> {
  const { github } = system;
  const repo = 'octo-org/enqueue';
  await github.createRepository(repo, { 'a.txt': 'a\n' });
  github.grant(repo, 'maintainer', 'write');
  const issues = Array.from({ length: ENQUEUED }, (_, i) => github.openIssue(repo, { title: `Queued ${i}` }));
  await github.webhooks.settled();
  const t0 = performance.now();
  for (const n of issues) github.label(repo, n, 'agent');
  await github.webhooks.settled();
  const ms = performance.now() - t0;
  const failed = github.webhooks.deliveries.filter((d) => d.outcome !== 'delivered');
  if (failed.length > 0) throw new Error(`${failed.length} deliveries not answered 2xx`);
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('agent-mapreduce-events', { connection });
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
  // closed unseen, so that neither their deliveries nor the workers' reconcile runs them
  github.webhooks.hold = true;
  for (const n of issues) github.closeIssue(repo, n);
  github.webhooks.hold = false;
  return ms;
}

/** The clones the workers made on their disks (`<WORK_DIR>/repos/<owner>/<repo>.git`): one per repository is the ideal. */
async function clonesOf(workers: AppProcess[]): Promise<number> {
  let clones = 0;
  for (const worker of workers) {
    const owners = await readdir(path.join(worker.workDir!, 'repos')).catch(() => []);
    for (const owner of owners) clones += (await readdir(path.join(worker.workDir!, 'repos', owner))).filter((n) => n.endsWith('.git')).length;
  }
  return clones;
}

async function fleetRun(): Promise<{ makespan: number; labelledAt: number; spans: Span[]; clones: number }> {
  const redis = await startRedis();
  // the Redis server is a process of its own: it is stopped whatever fails, starting the app included
  try {
    const model = await startScriptedModel({ replyDelayMs: T / 2 });
    const env = { REDIS_URL: redis.url, MAX_AGENTS: String(FLEET_CAP), ...RAISED_WRITES, ...QUIET };
    const system = await startSystem({ entry: ENTRY, model, env: { ...env, ROLE: 'web' } });
    try {
      const enqueueMs = await timeEnqueue(system, redis.url);
      print('fleet_enqueue_ms', enqueueMs, { issues: ENQUEUED, per_issue_ms: Number((enqueueMs / ENQUEUED).toFixed(2)), role: 'web' });
      const workers: AppProcess[] = [];
      for (let w = 0; w < WORKERS; w++) workers.push(await system.startAnother({ ROLE: 'worker' }));
      const repos = await createRepositories(system.github);
      const { makespan, labelledAt } = await mapAll(system, repos);
      return { makespan, labelledAt, spans: agentSpans(model), clones: await clonesOf(workers) };
    } finally {
      await system.stop();
    }
  } finally {
    await redis.stop();
  }
}

async function oneProcessRun(): Promise<{ makespan: number; labelledAt: number; spans: Span[] }> {
  const model = await startScriptedModel({ replyDelayMs: T / 2 });
  const system = await startSystem({ entry: ENTRY, model, env: { MAX_AGENTS: String(FLEET_CAP), ...RAISED_WRITES, ...QUIET } });
  try {
    const repos = await createRepositories(system.github);
    const { makespan, labelledAt } = await mapAll(system, repos);
    return { makespan, labelledAt, spans: agentSpans(model) };
  } finally {
    await system.stop();
  }
}

async function main(): Promise<void> {
  const issues = REPOS * PER_REPO;
  const ideal = Math.max(Math.ceil(issues / FLEET_CAP), Math.ceil(PER_REPO / REPO_CAP)) * T;
  const fleet = await fleetRun();
  const fleetCaps = checkCaps('fleet', fleet.spans);
  const one = await oneProcessRun();
  const oneCaps = checkCaps('one process', one.spans);
  const context = { issues, repositories: REPOS, fleet_cap: FLEET_CAP, repo_cap: REPO_CAP, agent_ms: T, ideal_ms: ideal };
  print('fleet_efficiency', ideal / fleet.makespan, {
    ...context, workers: WORKERS, makespan_ms: Math.round(fleet.makespan), most_agents_at_once: fleetCaps.fleet, most_in_one_repo: fleetCaps.repo,
    clones: fleet.clones, ...lostTime(fleet.spans, fleet.labelledAt, fleet.makespan), baseline_efficiency: Number((ideal / one.makespan).toFixed(3)),
  });
  print('fleet_baseline_efficiency', ideal / one.makespan, {
    ...context, processes: 1, makespan_ms: Math.round(one.makespan), most_agents_at_once: oneCaps.fleet, most_in_one_repo: oneCaps.repo,
    ...lostTime(one.spans, one.labelledAt, one.makespan),
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
