import { runGit } from '../git/run-git.js';

/**
 * `git patch-id --stable` of what a commit changes against its merge base with the base branch:
 * equal for the same change rebased onto a newer base, different once anyone edits the change.
 * The diff has no context lines (`-U0`): patch-id hashes context too, so with git's default three
 * lines a base edit next to the change would give a clean rebase a new id and cost a re-approval
 * for nothing. Only the PR’s own added and removed lines count (patch-id ignores line numbers).
 * Null for a commit that changes nothing.
 */
export async function patchIdAgainstBase(cloneDir: string, commit: string, baseSha: string, env: Record<string, string> = {}): Promise<string | null> {
  const mergeBase = (await runGit(['merge-base', commit, baseSha], { cwd: cloneDir, env })).trim();
  const diff = await runGit(['diff', '--no-color', '--no-ext-diff', '--full-index', '-U0', mergeBase, commit], { cwd: cloneDir, env });
  if (diff.trim() === '') return null;
  const out = await runGit(['patch-id', '--stable'], { cwd: cloneDir, env, input: diff });
  return out.trim().split(/\s+/)[0] ?? null;
}
