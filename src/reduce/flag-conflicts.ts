import type { PullInfo } from '../github/port.js';
import { CONFLICT_KIND, CONFLICT_LABEL, issueOfBranch } from '../names.js';
import type { Conflict } from './conflict-graph.js';
import { issueRef, type Flagged, type ReduceDeps, type ReducePass, type ReduceReport } from './reduce-pass.js';

/**
 * Step 5 of a pass: flag the PRs that really conflict (the label, and one comment naming the files
 * and the PR or base they collide with; with `reduce.autoResolve`, the agent's rebase starts), and
 * clear the flag of eligible PRs that no longer conflict.
 */
export async function flagConflicts(
  deps: ReduceDeps, pass: ReducePass, flagged: Flagged, eligible: PullInfo[], report: ReduceReport,
): Promise<void> {
  const { github, config } = pass;
  const pulls = new Map(eligible.map((pull) => [pull.number, pull]));
  for (const [number, { conflict, with: other }] of flagged) {
    const pull = pulls.get(number)!;
    const fresh = !pull.labels.includes(CONFLICT_LABEL);
    deps.profile.record({ ...issueRef(github, pull), type: 'conflict', pr: number, files: conflict.files, with: other.replaceAll('`', ''), fresh });
    if (fresh) await github.addLabels(number, [CONFLICT_LABEL]);
    await deps.comments.upsert(github, number, CONFLICT_KIND, renderConflict(conflict, other, config.reduce.autoResolve), { conflict: true });
    report.flagged.push(number);
    if (config.reduce.autoResolve) deps.resolveConflict?.(pass, number, issueOfBranch(pull.headRef)!);
  }
  for (const pull of eligible) {
    if (flagged.has(pull.number) || !pull.labels.includes(CONFLICT_LABEL)) continue;
    await github.removeLabel(pull.number, CONFLICT_LABEL);
    deps.profile.record({ ...issueRef(github, pull), type: 'conflict-cleared', pr: pull.number });
    await deps.comments.upsert(github, pull.number, CONFLICT_KIND, '✅ **No longer conflicts**: it is back in the merge order.', { conflict: false });
  }
}

function renderConflict(conflict: Conflict, other: string, autoResolve: boolean): string {
  return [
    `⚠️ **Conflicts with ${other}**, so it is left out of the merge order until fixed.`,
    '',
    'Files:',
    ...conflict.files.map((f) => `- \`${f}\``),
    ...(conflict.messages.length > 0 ? ['', 'What git says:', '', ...conflict.messages.map((m) => `- ${m}`)] : []),
    '',
    autoResolve
      ? 'The agent is rebasing it and resolving the conflict now (`reduce.autoResolve`); it then needs review again.'
      : 'Comment `/agent rebase` to have the agent resolve it, or push a fix; the flag clears itself once it merges cleanly.',
  ].join('\n');
}
