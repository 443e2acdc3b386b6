import { GitError, runGit } from './run-git.js';

/** Extra environment (tests: isolation from the machine's git config) and cancellation. */
export interface WorktreeGitOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface CommitIdentity {
  name: string;
  email: string;
}

/**
 * Every path that differs from HEAD, staged or not, plus untracked files (ignored ones excluded),
 * relative to the worktree root, sorted. A rename counts as its old path and its new path.
 */
export async function changedFiles(dir: string, options: WorktreeGitOptions = {}): Promise<string[]> {
  // Without rename detection a rename is simply a deletion plus an addition: both paths, no pairing to parse.
  const out = await runGit(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames'], { cwd: dir, ...options });
  const paths = out.split('\0').filter((entry) => entry !== '').map((entry) => entry.slice(3));
  return [...new Set(paths)].sort();
}

/**
 * Stages everything and commits it as `author` (committer too); null when there is nothing to commit.
 * Callers commit because they saw changes, so the commit is tried at once; only when it fails does a
 * look at the index tell "nothing to commit" from an error (a program fewer per run).
 */
export async function commitAll(
  dir: string,
  commit: { message: string; author: CommitIdentity },
  options: WorktreeGitOptions = {},
): Promise<string | null> {
  await runGit(['add', '-A'], { cwd: dir, ...options });
  const { name, email } = commit.author;
  const committed = await runGit(['commit', '--quiet', '--no-gpg-sign', '--file=-'], {
    cwd: dir,
    signal: options.signal,
    input: commit.message,
    env: {
      ...options.env,
      GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email,
    },
    expectedExitCodes: [1],
  });
  if (committed.code === 1) {
    const staged = await runGit(['diff', '--cached', '--quiet'], { cwd: dir, ...options, expectedExitCodes: [1] });
    if (staged.code === 0) return null;
    throw new GitError(['commit', '--quiet', '--no-gpg-sign', '--file=-'], 1, committed.stderr || committed.stdout, dir);
  }
  return headSha(dir, options);
}

/** Who committed the commits reachable from `ref` and not from `base` (their committer emails, newest first). */
export async function committersSince(dir: string, base: string, ref: string, options: WorktreeGitOptions = {}): Promise<string[]> {
  const out = await runGit(['log', '--format=%ce', `${base}..${ref}`, '--'], { cwd: dir, ...options });
  return out.split('\n').filter((email) => email !== '');
}

export async function headSha(dir: string, options: WorktreeGitOptions = {}): Promise<string> {
  return (await runGit(['rev-parse', 'HEAD'], { cwd: dir, ...options })).trim();
}

/**
 * What this worktree changed since it forked from `ref`: the working tree (commits and uncommitted
 * edits to tracked files; untracked files do not show until committed) against merge-base(ref, HEAD).
 */
export async function diffAgainst(dir: string, ref: string, options: WorktreeGitOptions = {}): Promise<string> {
  return runGit(['diff', '--no-color', '--no-ext-diff', '--no-textconv', '--merge-base', ref, '--'], { cwd: dir, ...options });
}
