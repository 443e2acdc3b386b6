/** A repository the app works on, and the worktrees it cuts from its cached clone. */

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface RemoteRepo extends RepoRef {
  /** `repository.clone_url` from GitHub; never carries credentials. */
  cloneUrl: string;
}

export interface Worktree {
  dir: string;
  branch: string;
  owner: string;
  repo: string;
  /** Its bare clone, recorded when the worktree was made (never read back from its `.git` file). */
  cloneDir: string;
}

export interface WorktreeSpec {
  /** The worktree's folder name; one path segment. */
  name: string;
  branch: string;
  /** Where the branch starts, e.g. `origin/main`, or `origin/agent/issue-3-x` for a revision. */
  startPoint: string;
}
