import { readMarker } from '../github/marked-comment.js';
import type { PullInfo } from '../github/port.js';
import { TRAIN_FAILED_KIND, TRAIN_FAILED_LABEL } from '../names.js';
import type { ReduceDeps, ReducePass, ReduceReport } from './reduce-pass.js';
import type { Train } from './train.js';

/**
 * A PR found to break CI in a merge train leaves the order until its head changes: the label, and one
 * comment naming the failed checks and the train (with the head it failed on in its marker).
 */
export async function blameTrainFailure(
  deps: ReduceDeps, pass: ReducePass, pull: PullInfo, train: Train, checks: string[], report: ReduceReport,
): Promise<void> {
  const { github, baseRef } = pass;
  const named = checks.map((c) => `\`${c}\``).join(', ');
  report.waiting.push({ number: pull.number, reason: `failed ${named} in merge train ${train.number}; push a fix` });
  if (!pull.labels.includes(TRAIN_FAILED_LABEL)) await github.addLabels(pull.number, [TRAIN_FAILED_LABEL]);
  await deps.comments.upsert(github, pull.number, TRAIN_FAILED_KIND, [
    `❌ **Fails ${named} on top of \`${baseRef}\`**, so it is left out of the merge order until its code changes.`,
    '',
    ...evidence(train, pull.number, baseRef),
    `The base itself does not fail ${checks.length > 1 ? 'these checks' : 'this check'}.`,
    '',
    'Push a fix (or comment `/agent revise`); the flag clears itself once the head changes.',
  ].join('\n'), { sha: pull.headSha });
}

function evidence(train: Train, number: number, baseRef: string): string[] {
  const named = `merge train ${train.number} (\`${train.branch}\`, ${train.sha.slice(0, 12)})`;
  if (!train.members.some((m) => m.number === number)) return [`Bisecting its batch found it: its batch failed, and ${named} passed without it.`];
  return train.members.length === 1
    ? [`It failed alone in ${named}: its branch as it is, applied to \`${baseRef}\` at ${train.baseSha.slice(0, 12)}.`]
    : [`Bisecting its batch found it: ${named} failed with it, and the others passed without it.`];
}

/** Whether a PR's train failure still stands: it is flagged, and for the code now on its head. */
export async function failedInTrain(deps: ReduceDeps, pass: ReducePass, pull: PullInfo): Promise<boolean> {
  if (!pull.labels.includes(TRAIN_FAILED_LABEL)) return false;
  const comment = await deps.comments.find(pass.github, pull.number, TRAIN_FAILED_KIND);
  const flaggedSha = comment ? readMarker(comment.body)?.data.sha : undefined;
  if (flaggedSha === pull.headSha) return true;
  await pass.github.removeLabel(pull.number, TRAIN_FAILED_LABEL);
  await deps.comments.upsert(pass.github, pull.number, TRAIN_FAILED_KIND, '✅ **New code since the failure**: it is back in the merge order.', {});
  return false;
}
