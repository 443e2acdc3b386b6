import type { PullInfo } from '../github/port.js';
import { runGit } from '../git/run-git.js';
import { blameTrainFailure } from './blame-train-failure.js';
import { buildTrain, type TrainSpec } from './build-train.js';
import type { ConflictGraph } from './conflict-graph.js';
import { landTrain } from './land-train.js';
import type { Placed } from './order-candidates.js';
import { nextBatch, planTrains, type TrainPlan } from './plan-trains.js';
import { pointAtCulprits } from './point-at-culprit.js';
import { readTrains } from './read-trains.js';
import { mergeOne } from './merge-one.js';
import { baseKey, setAsideBaseConflicts, type Flagged, type PassPlace, type ReduceDeps, type ReducePass, type ReduceReport } from './reduce-pass.js';
import { listPulls, type ReadTrain, type Train } from './train.js';

/** How long a train may show no check at all before its PRs say that CI may not run on train branches. */
const NO_CI_NOTE_MS = 10 * 60_000;

/**
 * Step 4 of a pass with required checks: merge in trains, so that CI tests a batch once.
 * 1. flag the PRs that conflict with the base; the others keep their order;
 * 2. read the base's trains and what CI says of each (and of the base, when a train failed, and which
 *    PR a red batch's failure annotations point at);
 * 3. plan: abandon stale trains, wait for a running round, or land, bisect, blame (plan-trains.ts);
 * 4. delete the abandoned trains, flag the PRs to blame, land the green train;
 * 5. build the next round on the base as it now is (a lone PR already on the base tip merges as it
 *    is: its own checks tested exactly that);
 * 6. say where each PR stands: in which train, or waiting for one.
 * Returns the PRs to flag as conflicting.
 */
export async function runTrains(
  deps: ReduceDeps, pass: ReducePass, place: PassPlace, baseSha: string, order: Placed[], pulls: Map<number, PullInfo>,
  graph: ConflictGraph, report: ReduceReport,
): Promise<Flagged> {
  const { github, baseRef, config, log } = pass;
  const { flagged, rest } = setAsideBaseConflicts(order, graph, baseRef);
  const inOrder = rest.map((p) => p.number);

  const trains = await readTrains(deps, pass, place);
  const baseFailed = trains.some(({ ci }) => ci.state === 'failure') ? (await github.getChecks(baseSha)).failed : [];
  const pointers = await pointAtCulprits(github, place, trains, { baseSha, baseFailed }, log);
  const plan = planTrains({
    baseSha, baseFailed, trains, eligible: new Map(inOrder.map((n) => [n, pulls.get(n)!.headSha])),
    nextBatch: nextBatch(inOrder, graph.pairs, config.reduce.batchSize), pointers,
  });

  for (const { train, reason } of plan.abandon) {
    log.info({ train: train.number, reason }, 'train abandoned');
    await github.deleteBranch(train.branch).catch((err: unknown) => log.warn({ err }, 'train branch not deleted'));
  }
  for (const { pull, train, checks } of plan.blame) await blameTrainFailure(deps, pass, pulls.get(pull)!, train, checks, report);
  let base = baseSha;
  if (plan.land) {
    const landed = await landTrain(deps, pass, place, plan.land, pulls, report);
    if (landed.kind === 'merge-queue') await github.deleteBranch(plan.land.branch).catch((err: unknown) => log.warn({ err }, 'train branch not deleted'));
    if (landed.kind !== 'landed') return flagged;
    base = landed.baseSha;
  }

  const built = await buildRound(deps, pass, place, base, plan, trains.map(({ train }) => train.number), pulls, report);
  showTrains(pass, inOrder, [...plan.running, ...built], plan, trains, report);
  return flagged;
}

/** Step 5: each batch of the next round becomes a train on `baseSha`; a lone PR already on the tip merges at once. */
async function buildRound(
  deps: ReduceDeps, pass: ReducePass, place: PassPlace, baseSha: string, plan: TrainPlan, seen: number[],
  pulls: Map<number, PullInfo>, report: ReduceReport,
): Promise<Train[]> {
  const key = baseKey(pass);
  let last = Math.max(deps.trainNumbers?.get(key) ?? 0, 0, ...seen);
  const specs: TrainSpec[] = [];
  for (const { pulls: numbers, bisect } of plan.build) {
    const batch = numbers.map((n) => pulls.get(n)!);
    if (!bisect && batch.length === 1 && await onTip(place, batch[0]!.headSha, baseSha)) {
      await mergeAsItIs(deps, pass, batch[0]!, report);
      continue;
    }
    last += 1;
    deps.trainNumbers?.set(key, last);
    specs.push({ number: last, pulls: batch, ...(bisect ? { bisect } : {}) });
  }
  // side by side (each in its own worktree; pushes take turns under the clone's lock): a round of
  // four trains built one after another started the last one's CI a second after the first
  const settled = await Promise.allSettled(specs.map((spec) => buildTrain(deps, pass, place, baseSha, spec)));
  const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  for (const err of failed.slice(1)) pass.log.error({ err }, 'train not built');
  // only once every build has ended, so that none pushes behind the pass's back; the trains that were
  // pushed stay, and the next pass plans from them
  if (failed.length > 0) throw failed[0];
  const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const { skipped } of results) {
    for (const n of skipped) report.waiting.push({ number: n, reason: 'did not apply on top of the PRs before it in the train; waits for the next one' });
  }
  return results.flatMap(({ train }) => (train ? [train] : []));
}

async function onTip(place: PassPlace, headSha: string, baseSha: string): Promise<boolean> {
  return (await runGit(['merge-base', headSha, baseSha], { cwd: place.clone, env: place.env })).trim() === baseSha;
}

async function mergeAsItIs(deps: ReduceDeps, pass: ReducePass, pull: PullInfo, report: ReduceReport): Promise<void> {
  const merged = await mergeOne(deps, pass, pull, pull.headSha, report);
  if (merged.kind === 'moved' || merged.kind === 'not-mergeable') report.waiting.push({ number: pull.number, reason: merged.message });
}

/** Step 6: each PR in a train says which and with whom; the others in the order wait for the round to end. */
function showTrains(
  pass: ReducePass, inOrder: number[], live: Train[], plan: TrainPlan, read: ReadTrain[], report: ReduceReport,
): void {
  const said = new Set([...report.merged, ...report.waiting.map((w) => w.number)]);
  // a train with no check long after it was built: CI may not run on train branches at all
  const silent = new Set(read.filter(({ ci, builtAt }) => ci.state === 'none' && Date.now() - builtAt > NO_CI_NOTE_MS).map(({ train }) => train.number));
  for (const train of live) {
    const ci = silent.has(train.number)
      ? `no check has started on \`${train.branch}\`: does CI run on pushes to \`agent-mapreduce/train/**\`?` : 'CI running';
    for (const { number } of train.members) {
      const others = train.members.map((m) => m.number).filter((n) => n !== number);
      report.waiting.push({ number, reason: `in train ${train.number}${others.length > 0 ? ` with ${listPulls(others)}` : ''}; ${ci}` });
      said.add(number);
    }
  }
  for (const { train, checks } of plan.baseBroken) {
    for (const { number } of train.members) {
      report.waiting.push({ number, reason: `train ${train.number} fails ${checks.map((c) => `\`${c}\``).join(', ')}, which \`${pass.baseRef}\` fails too; waiting for the base to be fixed` });
      said.add(number);
    }
  }
  const next = live[0]?.number ?? plan.baseBroken[0]?.train.number;
  for (const number of inOrder) {
    if (said.has(number)) continue;
    report.waiting.push({ number, reason: next !== undefined ? `waits for train ${next} to finish` : 'waits for the next train' });
  }
}
