import type { GitHub, PullInfo } from '../github/port.js';
import { ORDER_CHECK } from '../names.js';
import type { Flagged, ReduceDeps, ReduceReport } from './reduce-pass.js';

/** The `agent-mapreduce/merge-order` check run on each candidate's head: its place, or what it waits for. */
export async function showOrder(
  deps: ReduceDeps, github: GitHub, pulls: PullInfo[], report: ReduceReport, flagged: Flagged,
): Promise<void> {
  const queue = report.order.filter((n) => !report.merged.includes(n) && !flagged.has(n));
  for (const pull of pulls) {
    if (report.merged.includes(pull.number)) continue;
    const waiting = report.waiting.find((w) => w.number === pull.number);
    const conflict = flagged.get(pull.number);
    const place = queue.indexOf(pull.number) + 1;
    const title = conflict ? `Left out: conflicts with ${conflict.with.replaceAll('`', '')}`
      : waiting ? `Waiting: ${waiting.reason}`
        : place > 0 ? `Place ${place} of ${queue.length} in the merge order` : null;
    if (!title) continue;
    const key = `${github.owner}/${github.repo}#${pull.number}@${pull.headSha}`;
    if (deps.shownOrder?.get(key) === title) continue;
    await github.createCheckRun({
      name: ORDER_CHECK, headSha: pull.headSha, status: 'completed', conclusion: 'neutral', title,
      summary: `Merge order of \`${pull.baseRef}\`: ${queue.map((n) => `#${n}`).join(' → ') || '(empty)'}`,
    }).then(() => deps.shownOrder?.set(key, title), () => undefined);
  }
}
