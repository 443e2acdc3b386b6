import type { PullInfo } from '../github/port.js';
import { runGit } from '../git/run-git.js';
import { withWorktree } from '../jobs/with-worktree.js';
import { trainBranch } from '../names.js';
import type { PassPlace, ReduceDeps, ReducePass } from './reduce-pass.js';
import { listPulls, trainTrailers, type Bisection, type Train } from './train.js';

export interface Built {
  /** Null when no PR of the batch applied. */
  train: Train | null;
  /** PRs that did not apply on top of the ones before them; they wait for the next batch. */
  skipped: number[];
}

/** A train to build: its number, its PRs in order, and the bisection it belongs to, if any. */
export interface TrainSpec { number: number; pulls: PullInfo[]; bisect?: Bisection }

/**
 * Builds train `number` in a worktree: the base tip, then each PR applied as the merge method will
 * merge it (a squash commit, a merge commit, or its commits replayed), then an empty commit whose
 * trailers say what the train holds; and pushes it to the train's branch for CI.
 */
export async function buildTrain(deps: ReduceDeps, pass: ReducePass, place: PassPlace, baseSha: string, spec: TrainSpec): Promise<Built> {
  const { number, pulls, bisect } = spec;
  const { github, baseRef, config, log } = pass;
  const identity = await deps.botIdentity(github);
  const env = {
    ...place.env, GIT_AUTHOR_NAME: identity.name, GIT_AUTHOR_EMAIL: identity.email, GIT_COMMITTER_NAME: identity.name, GIT_COMMITTER_EMAIL: identity.email,
  };
  const branch = trainBranch(baseRef, number);
  const acquire = async () => ({
    worktree: await deps.workspace.addWorktree(place.repo, { name: `train-${number}-${baseRef}`, branch, startPoint: baseSha }),
  });
  return withWorktree(deps.workspace, acquire, async ({ worktree }): Promise<Built> => {
    const git = (args: string[], codes: number[] = []) => runGit(args, { cwd: worktree.dir, env, expectedExitCodes: codes });
    const applied: PullInfo[] = [];
    const skipped: number[] = [];
    for (const pull of pulls) {
      if (await apply(git, config.reduce.mergeMethod, pull, baseSha)) applied.push(pull);
      else skipped.push(pull.number);
    }
    if (applied.length === 0) return { train: null, skipped };
    const members = applied.map((p) => ({ number: p.number, headSha: p.headSha }));
    const title = `Merge train ${number} into ${baseRef}: ${listPulls(members.map((m) => m.number))}`;
    const trailers = trainTrailers({ number, baseSha, members, ...(bisect ? { bisect } : {}) });
    await git(['commit', '--quiet', '--allow-empty', '-m', `${title}\n\n${trailers}`]);
    const pushed = await github.withGitToken('write', (token) => deps.workspace.push(worktree, { token, force: true }));
    if (pushed.kind !== 'pushed') throw new Error(`the train branch ${branch} was not pushed: ${pushed.reason}`);
    log.info({ train: number, members: members.map((m) => m.number), sha: pushed.sha }, 'train built');
    return { train: { number, branch, sha: pushed.sha, baseSha, members, ...(bisect ? { bisect } : {}) }, skipped };
  }, { log });
}

type Git = (args: string[], codes?: number[]) => Promise<{ code: number; stdout: string }>;

/** Applies one PR on top of the worktree's HEAD as `method` would; false (and nothing applied) when it does not apply cleanly. */
async function apply(git: Git, method: 'merge' | 'squash' | 'rebase', pull: PullInfo, baseSha: string): Promise<boolean> {
  if (method === 'squash') {
    const merged = await git(['merge', '--quiet', '--squash', pull.headSha], [1]);
    if (merged.code === 0) {
      await git(['commit', '--quiet', '--allow-empty', '-m', `#${pull.number}`]);
      return true;
    }
    await git(['reset', '--quiet', '--hard', 'HEAD']);
    return false;
  }
  if (method === 'merge') {
    const merged = await git(['merge', '--quiet', '--no-ff', '-m', `Merge #${pull.number}`, pull.headSha], [1]);
    if (merged.code === 0) return true;
    await git(['merge', '--abort']);
    return false;
  }
  const from = (await git(['merge-base', pull.headSha, baseSha])).stdout.trim();
  const picked = await git(['cherry-pick', '--allow-empty', '--keep-redundant-commits', `${from}..${pull.headSha}`], [1]);
  if (picked.code === 0) return true;
  await git(['cherry-pick', '--abort']);
  return false;
}
