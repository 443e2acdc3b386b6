import type { PullInfo } from '../github/port.js';
import type { ConflictGraph } from './conflict-graph.js';
import type { Placed } from './order-candidates.js';
import { setAsideBaseConflicts, type Flagged, type ReduceDeps, type ReducePass, type ReduceReport } from './reduce-pass.js';

/**
 * Step 4 where the base takes merges only through GitHub's merge queue: the eligible PRs go into
 * that queue in the merge order, each with its head as the expected one (so a push after the
 * approval is refused), priority PRs jumping to the front. GitHub's queue then tests and merges
 * them; the app still flags conflicts and shows the order. A PR that conflicts with one ahead of it
 * waits for that one to merge, as in the app's own trains. Returns the PRs to flag.
 */
export async function enqueueInOrder(
  deps: ReduceDeps, pass: ReducePass, order: Placed[], pulls: Map<number, PullInfo>, graph: ConflictGraph, report: ReduceReport,
): Promise<Flagged> {
  const { github, baseRef, config, log } = pass;
  const { flagged, rest } = setAsideBaseConflicts(order, graph, baseRef);
  const queued = deps.mergeQueue?.queued ?? new Map<string, string>();
  for (const placed of rest) {
    const pull = pulls.get(placed.number)!;
    if (placed.waitsFor.length > 0) {
      report.waiting.push({ number: pull.number, reason: `waits for ${placed.waitsFor.map((n) => `#${n}`).join(', ')} to merge` });
      continue;
    }
    const key = `${github.owner}/${github.repo}#${pull.number}`;
    if (queued.get(key) !== pull.headSha) {
      const jump = pull.labels.some((l) => config.reduce.priorityLabels.includes(l));
      const outcome = await github.enqueuePull(pull.number, { headSha: pull.headSha, jump });
      if (outcome.kind === 'refused') {
        report.waiting.push({ number: pull.number, reason: `GitHub's merge queue refused it: ${outcome.message}` });
        continue;
      }
      queued.set(key, pull.headSha);
      log.info({ pr: pull.number, jump, position: outcome.position }, 'queued in GitHub\'s merge queue');
    }
    report.waiting.push({ number: pull.number, reason: `in GitHub's merge queue for \`${baseRef}\`` });
  }
  return flagged;
}
