import type { GitHub, PullInfo, RepositoryInfo } from '../github/port.js';
import type { Workspace } from '../git/workspace.js';
import type { Worktree } from '../git/worktree.js';
import { syncClone } from '../pipeline/sync-clone.js';

/**
 * A worktree on an agent PR's branch at the head the remote has now, and that head: a job that
 * works on the PR pushes with a lease on it, so that a concurrent push stops it instead of being lost.
 */
export async function checkoutPullHead(
  workspace: Workspace,
  github: GitHub,
  repository: RepositoryInfo,
  pull: PullInfo,
): Promise<{ worktree: Worktree; startSha: string | null }> {
  const repo = { owner: github.owner, repo: github.repo, cloneUrl: repository.cloneUrl };
  await syncClone(github, workspace, repo);
  const startSha = await workspace.remoteBranchSha(repo, pull.headRef);
  const worktree = await workspace.addWorktree(repo, { name: `pr-${pull.number}`, branch: pull.headRef, startPoint: `origin/${pull.headRef}` });
  return { worktree, startSha };
}
