import { runGit } from '../git/run-git.js';

export type MergeResult =
  | { clean: true; tree: string }
  | { clean: false; files: string[]; messages: string[] };

/**
 * `git merge-tree --write-tree` of two commits, in a bare clone, touching no worktree. Exit 0 is a
 * clean merge (its tree), exit 1 a conflicted one (files, then git's messages) — but a bad ref is
 * also exit 1, with nothing on stdout, and that is an error, not a conflict. git 2.38+.
 */
export async function mergeTree(cwd: string, ours: string, theirs: string, env: Record<string, string> = {}): Promise<MergeResult> {
  const result = await runGit(['merge-tree', '--write-tree', '--name-only', ours, theirs], { cwd, env, expectedExitCodes: [1] });
  const [tree, ...rest] = result.stdout.split('\n');
  if (!tree || !/^[0-9a-f]{40,64}$/.test(tree)) {
    throw new Error(`git merge-tree could not merge ${ours} and ${theirs}: ${result.stderr.trim() || 'no output'}`);
  }
  if (result.code === 0) return { clean: true, tree };
  const blank = rest.indexOf('');
  const files = rest.slice(0, blank === -1 ? rest.length : blank).filter(Boolean);
  const messages = blank === -1 ? [] : rest.slice(blank + 1).filter((line) => line.startsWith('CONFLICT'));
  return { clean: false, files: [...new Set(files)], messages };
}
