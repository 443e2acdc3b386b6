import type { PullInfo } from '../github/port.js';
import { abortRebase, startRebase } from '../git/rebase.js';
import { runGit } from '../git/run-git.js';
import { withWorktree } from '../jobs/with-worktree.js';
import type { Conflict, ConflictGraph } from './conflict-graph.js';
import type { Placed } from './order-candidates.js';
import { patchIdAgainstBase } from './patch-id.js';
import { mergeOne } from './merge-one.js';
import type { Flagged, PassPlace, ReduceDeps, ReducePass, ReduceReport } from './reduce-pass.js';
import { syncClone } from '../pipeline/sync-clone.js';

/**
 * Step 4 of a pass, down the order: a PR that conflicts with the base is flagged; one that waits
 * for a PR not merged yet waits; one behind the base is rebased onto it (its approval kept only if
 * its patch-id is, and with required checks it waits for them on the new head); then it is merged
 * with the head-SHA guard, its branch deleted, and the clone re-synced for the next. A refused
 * merge ends the pass: the next one re-reads everything. Returns the PRs to flag.
 */
export async function mergeInOrder(
  deps: ReduceDeps, pass: ReducePass, place: PassPlace, baseAt: string, order: Placed[], pulls: Map<number, PullInfo>,
  graph: ConflictGraph, report: ReduceReport,
): Promise<Flagged> {
  const { github, baseRef, log } = pass;
  const flagged: Flagged = new Map();
  let baseSha = baseAt;
  for (const placed of order) {
    const pull = pulls.get(placed.number)!;
    const baseConflict = graph.withBase.get(pull.number);
    if (baseConflict) {
      flagged.set(pull.number, { conflict: baseConflict, with: `the base branch \`${baseRef}\`` });
      continue;
    }
    const blockers = placed.waitsFor.filter((n) => !report.merged.includes(n));
    if (blockers.length > 0) {
      report.waiting.push({ number: pull.number, reason: `waits for ${blockers.map((n) => `#${n}`).join(', ')} to merge` });
      continue;
    }
    const ready = await bringUpToDate(deps, pass, place, pull, baseSha, placed.waitsFor, report);
    if (ready.kind === 'conflict') {
      flagged.set(pull.number, { conflict: ready.conflict, with: ready.with });
      continue;
    }
    if (ready.kind === 'wait') {
      report.waiting.push({ number: pull.number, reason: ready.reason });
      if (ready.endsPass) break; // the check events start the next pass
      continue;
    }

    const merged = await mergeOne(deps, pass, pull, ready.head, report);
    if (merged.kind === 'merge-queue') break;
    if (merged.kind !== 'merged') {
      log.info({ pr: pull.number, merged }, 'merge refused; the next pass re-reads');
      report.waiting.push({ number: pull.number, reason: merged.message });
      break;
    }
    await syncClone(github, deps.workspace, place.repo);
    baseSha = (await deps.workspace.remoteBranchSha(place.repo, baseRef)) ?? baseSha;
  }
  return flagged;
}

type Ready =
  | { kind: 'ready'; head: string }
  | { kind: 'conflict'; conflict: Conflict; with: string }
  | { kind: 'wait'; reason: string; endsPass: boolean };

/** A PR's head on top of the base: as it is, or rebased (and then only if its own changes are unchanged). */
async function bringUpToDate(
  deps: ReduceDeps, pass: ReducePass, place: PassPlace, pull: PullInfo, baseSha: string, after: number[], report: ReduceReport,
): Promise<Ready> {
  const head = pull.headSha;
  const behind = (await runGit(['merge-base', head, baseSha], { cwd: place.clone, env: place.env })).trim() !== baseSha;
  if (!behind) return { kind: 'ready', head };
  const rebased = await rebaseOnto(deps, pass, place, pull);
  if (rebased.kind === 'conflict') {
    const partner = after.find((n) => report.merged.includes(n));
    return { kind: 'conflict', conflict: rebased.conflict, with: partner ? `#${partner}` : `the base branch \`${pass.baseRef}\`` };
  }
  if (rebased.kind === 'rejected') return { kind: 'wait', reason: 'its branch moved during the rebase', endsPass: false };
  const [before, now] = await Promise.all([
    patchIdAgainstBase(place.clone, head, baseSha, place.env), patchIdAgainstBase(place.clone, rebased.sha, baseSha, place.env),
  ]);
  if (before !== now) return { kind: 'wait', reason: 'the rebase changed its diff, so it needs a fresh approval', endsPass: false };
  if (pass.config.reduce.requireChecks) return { kind: 'wait', reason: 'rebased; waiting for the checks on the new head', endsPass: true };
  return { kind: 'ready', head: rebased.sha };
}

type Rebased = { kind: 'rebased'; sha: string } | { kind: 'conflict'; conflict: Conflict } | { kind: 'rejected' };

/** Rebases the PR's branch onto the base in a worktree and pushes it with a lease on the old head. */
async function rebaseOnto(deps: ReduceDeps, pass: ReducePass, place: PassPlace, pull: PullInfo): Promise<Rebased> {
  const { github, baseRef, log } = pass;
  const identity = await deps.botIdentity(github);
  const rebaseOptions = { env: { ...place.env, GIT_COMMITTER_NAME: identity.name, GIT_COMMITTER_EMAIL: identity.email } };
  const acquire = async () => ({
    worktree: await deps.workspace.addWorktree(place.repo, { name: `reduce-${pull.number}`, branch: pull.headRef, startPoint: pull.headSha }),
  });
  return withWorktree(deps.workspace, acquire, async ({ worktree }): Promise<Rebased> => {
    const step = await startRebase(worktree.dir, `origin/${baseRef}`, rebaseOptions);
    if (step.kind !== 'done') {
      await abortRebase(worktree.dir, rebaseOptions);
      return { kind: 'conflict', conflict: step.kind === 'conflict' ? { files: step.files, messages: step.messages } : { files: [], messages: [step.reason] } };
    }
    const pushed = await github.withGitToken('write', (token) => deps.workspace.push(worktree, { token, lease: { expectedSha: pull.headSha } }));
    if (pushed.kind === 'rejected') return { kind: 'rejected' };
    return { kind: 'rebased', sha: pushed.sha };
  }, { log });
}
