import type { Workspace } from '../git/workspace.js';
import type { Logger } from '../log.js';
import type { Worktree } from '../git/worktree.js';

/**
 * Runs a job's work in the worktree `acquire` makes, and always gives the worktree back: work that
 * returned an outcome leaves it wiped for the repository's next job; work that threw, or a job that
 * was aborted (cancelled, or interrupted by a shutdown), has it removed. The work's own outcome, or
 * its error, stands: a failed clean-up is only logged.
 */
export async function withWorktree<Acquired extends { worktree: Worktree }, Outcome>(
  workspace: Workspace,
  acquire: () => Promise<Acquired>,
  work: (acquired: Acquired) => Promise<Outcome>,
  options: { signal?: AbortSignal; log: Logger },
): Promise<Outcome> {
  const acquired = await acquire();
  let returned = false;
  try {
    const outcome = await work(acquired);
    returned = true;
    return outcome;
  } finally {
    const reusable = returned && !options.signal?.aborted;
    const done = reusable ? workspace.recycleWorktree(acquired.worktree) : workspace.removeWorktree(acquired.worktree);
    await done.catch((err: unknown) => options.log.warn({ err }, 'worktree clean-up failed'));
  }
}
