import type { PullInfo } from '../github/port.js';
import { runGit } from '../git/run-git.js';
import { mergeOne } from './merge-one.js';
import type { PassPlace, ReduceDeps, ReducePass, ReduceReport } from './reduce-pass.js';
import { listPulls, type Train } from './train.js';
import { syncClone } from '../pipeline/sync-clone.js';

export type Landed =
  | { kind: 'landed'; baseSha: string }
  /** A merge was refused, or the base is not what CI tested: the next pass reads everything again. */
  | { kind: 'stopped' }
  /** The base takes merges only through GitHub's merge queue: the pass queues its PRs there instead. */
  | { kind: 'merge-queue' };

/**
 * Lands a green train: each PR merged through the API in the train's order, each with its head SHA
 * as the guard (the code CI tested), its branch deleted after. GitHub merges each head as the train
 * applied it, so the base's tree must then be the train's; if it is not, the pass stops and says so
 * in a comment on the train's last PR. A refused merge stops the landing: the base moved, so the next
 * pass abandons what is left of the train and builds the next one on the new base.
 */
export async function landTrain(
  deps: ReduceDeps, pass: ReducePass, place: PassPlace, train: Train, pulls: Map<number, PullInfo>, report: ReduceReport,
): Promise<Landed> {
  const { github, baseRef, log } = pass;
  for (const member of train.members) {
    const merged = await mergeOne(deps, pass, pulls.get(member.number)!, member.headSha, report);
    if (merged.kind === 'merge-queue') return merged;
    if (merged.kind !== 'merged') {
      log.info({ pr: member.number, train: train.number, merged }, 'train merge refused; the next pass re-reads');
      report.waiting.push({ number: member.number, reason: merged.message });
      return { kind: 'stopped' };
    }
  }
  await github.deleteBranch(train.branch).catch((err: unknown) => log.warn({ err }, 'train branch not deleted'));
  await syncClone(github, deps.workspace, place.repo);
  const baseSha = (await deps.workspace.remoteBranchSha(place.repo, baseRef)) ?? train.baseSha;
  const tree = (ref: string) => runGit(['rev-parse', `${ref}^{tree}`], { cwd: place.clone, env: place.env }).then((t) => t.trim());
  const [landedTree, testedTree] = await Promise.all([tree(baseSha), tree(train.sha)]);
  if (landedTree !== testedTree) {
    // GitHub merged differently from the train (or someone pushed in between): what is on the base was not tested as a whole
    log.error({ train: train.number, base: baseSha, landedTree, testedTree }, 'the base after the train differs from the train CI tested');
    await github.createComment(train.members.at(-1)!.number, [
      `⚠️ **\`${baseRef}\` differs from what CI tested.** After merging train ${train.number} (${listPulls(train.members.map((m) => m.number))}),`,
      `the tree of \`${baseRef}\` (${baseSha.slice(0, 12)}) is not the tree of the train (${train.sha.slice(0, 12)}). Please check the base's CI;`,
      'the app goes on with the next train on top of it.',
    ].join('\n'));
    return { kind: 'stopped' };
  }
  return { kind: 'landed', baseSha };
}
