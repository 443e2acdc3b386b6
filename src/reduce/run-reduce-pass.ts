import type { PullInfo } from '../github/port.js';
import { buildConflictGraph, type ConflictGraph } from './conflict-graph.js';
import { enqueueInOrder } from './enqueue-in-order.js';
import { flagConflicts } from './flag-conflicts.js';
import { mergeInOrder } from './merge-in-order.js';
import { orderCandidates, type Placed } from './order-candidates.js';
import { readCandidates } from './read-candidates.js';
import { runTrains } from './run-trains.js';
import { baseKey, type Flagged, type PassPlace, type ReduceDeps, type ReducePass, type ReduceReport } from './reduce-pass.js';
import { showOrder } from './show-order.js';
import { syncClone } from '../pipeline/sync-clone.js';

/**
 * One reduce pass over a base branch (DESIGN §5), level-triggered: it re-reads everything.
 * 1. sync the cached clone and read the base's tip;
 * 2. read the candidates: open agent PRs from this repository into the base, and which of them are
 *    eligible (approved by writers for the code now on the branch, checks green where required);
 * 3. the conflict graph of the eligible ones, and their order;
 * 4. merge: with required checks, in trains that CI tests once per batch (run-trains.ts); otherwise
 *    one by one down the order (merge-in-order.ts); where the base takes merges only through
 *    GitHub's merge queue, queue them there in the order (enqueue-in-order.ts);
 * 5. flag the PRs that really conflict, and clear the flag of those that no longer do;
 * 6. show each candidate its place in the order, or what it waits for, as a check run.
 */
export async function runReducePass(deps: ReduceDeps, pass: ReducePass): Promise<ReduceReport> {
  const { github, baseRef, config } = pass;
  const report: ReduceReport = { order: [], merged: [], flagged: [], waiting: [] };
  const repo = { owner: github.owner, repo: github.repo, cloneUrl: pass.repository.cloneUrl };
  const place: PassPlace = { repo, clone: deps.workspace.cloneDir(repo), env: deps.gitEnv ?? {} };

  await syncClone(github, deps.workspace, repo);
  const baseSha = await deps.workspace.remoteBranchSha(repo, baseRef);
  if (!baseSha) return report;

  const { pulls, eligible, waiting } = await readCandidates(deps, pass, place, baseSha);
  report.waiting.push(...waiting);

  const graph = await buildConflictGraph({
    cloneDir: place.clone, baseSha, env: place.env, cache: deps.mergeCache,
    candidates: eligible.map(({ pull }) => ({ number: pull.number, headSha: pull.headSha })),
  });
  const order = orderCandidates(eligible.map(({ pull, approvedAt }) => ({
    number: pull.number, approvedAt, priority: pull.labels.some((l) => config.reduce.priorityLabels.includes(l)),
  })), graph.pairs);
  report.order = order.map((p) => p.number);

  const eligiblePulls = eligible.map(({ pull }) => pull);
  // trains need CI: where no eligible head has a single check, the repository has none to run on them
  const trains = config.reduce.requireChecks && config.reduce.batchSize > 1 && eligible.some((e) => e.checked);
  const flagged = await merge(deps, pass, place, { baseSha, order, graph, trains }, new Map(eligiblePulls.map((p) => [p.number, p])), report);
  await flagConflicts(deps, pass, flagged, eligiblePulls, report);
  await showOrder(deps, github, pulls, report, flagged);
  return report;
}

/** Step 4, in the way the base takes merges; a base found just now to take them only through GitHub's merge queue is queued at once. */
async function merge(
  deps: ReduceDeps, pass: ReducePass, place: PassPlace, how: { baseSha: string; order: Placed[]; graph: ConflictGraph; trains: boolean },
  pulls: Map<number, PullInfo>, report: ReduceReport,
): Promise<Flagged> {
  const { baseSha, order, graph } = how;
  const queueOnly = () => deps.mergeQueue?.bases.has(baseKey(pass)) ?? false;
  if (!queueOnly()) {
    const flagged = how.trains
      ? await runTrains(deps, pass, place, baseSha, order, pulls, graph, report)
      : await mergeInOrder(deps, pass, place, baseSha, order, pulls, graph, report);
    if (!queueOnly()) return flagged;
  }
  return enqueueInOrder(deps, pass, order.filter((p) => !report.merged.includes(p.number)), pulls, graph, report);
}
