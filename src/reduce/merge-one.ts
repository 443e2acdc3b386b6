import type { MergeOutcome, PullInfo } from '../github/port.js';
import { throwIfAborted } from '../throw-if-aborted.js';
import { issueRef, learnMergeQueue, type ReduceDeps, type ReducePass, type ReduceReport } from './reduce-pass.js';

/** A merge refused because the base takes merges only through GitHub's merge queue (now remembered). */
export type MergeOneOutcome = MergeOutcome | { kind: 'merge-queue' };

/**
 * Merges one PR through the API, only if its head is still `sha` (the code that was approved and
 * tested), with the configured method; a merged PR is reported, recorded for the profile, and its
 * branch deleted (`reduce.deleteBranch`). A refusal that says the base wants GitHub's merge queue is
 * learnt here, for every way of merging.
 */
export async function mergeOne(deps: ReduceDeps, pass: ReducePass, pull: PullInfo, sha: string, report: ReduceReport): Promise<MergeOneOutcome> {
  const { github, config, log } = pass;
  // a pass that must stop (another process now runs it) merges nothing more
  if (pass.signal) throwIfAborted(pass.signal);
  const merged = await github.mergePull(pull.number, { sha, method: config.reduce.mergeMethod });
  if (merged.kind !== 'merged') return learnMergeQueue(deps, pass, merged.message) ? { kind: 'merge-queue' } : merged;
  report.merged.push(pull.number);
  deps.profile.record({ ...issueRef(github, pull), type: 'merged', pr: pull.number });
  log.info({ pr: pull.number, sha: merged.sha }, 'merged');
  if (config.reduce.deleteBranch) await github.deleteBranch(pull.headRef).catch((err: unknown) => log.warn({ err }, 'branch not deleted'));
  return merged;
}
