import { runGit } from './run-git.js';

/**
 * Where a rebase in a worktree stands: done, or stopped on conflicts (the files git left
 * unmerged and its CONFLICT lines), or stopped for another reason (git's own words).
 */
export type RebaseStep =
  | { kind: 'done' }
  | { kind: 'conflict'; files: string[]; messages: string[] }
  | { kind: 'stopped'; reason: string };

export interface RebaseOptions {
  /** Must name the committer: a rebase rewrites commits. */
  env: Record<string, string>;
  signal?: AbortSignal;
}

const nonInteractive = { GIT_EDITOR: 'true', GIT_SEQUENCE_EDITOR: 'true' };

/** Starts `git rebase <onto>` in the worktree. */
export function startRebase(dir: string, onto: string, options: RebaseOptions): Promise<RebaseStep> {
  return step(dir, ['rebase', '--no-autosquash', onto], options);
}

/** Stages what the conflict resolution left and goes on with the rebase. */
export async function continueRebase(dir: string, options: RebaseOptions): Promise<RebaseStep> {
  await runGit(['add', '-A'], { cwd: dir, env: options.env, ...(options.signal ? { signal: options.signal } : {}) });
  return step(dir, ['rebase', '--continue'], options);
}

/** Leaves the worktree as it was before the rebase; harmless when none is under way. */
export async function abortRebase(dir: string, options: RebaseOptions): Promise<void> {
  await runGit(['rebase', '--abort'], { cwd: dir, env: { ...options.env, ...nonInteractive }, expectedExitCodes: [1, 128] });
}

async function step(dir: string, args: string[], options: RebaseOptions): Promise<RebaseStep> {
  const env = { ...options.env, ...nonInteractive };
  const signal = options.signal ? { signal: options.signal } : {};
  const result = await runGit(args, { cwd: dir, env, ...signal, expectedExitCodes: [1] });
  if (result.code === 0) return { kind: 'done' };
  const files = (await runGit(['diff', '--name-only', '--diff-filter=U'], { cwd: dir, env, ...signal })).split('\n').filter(Boolean);
  if (files.length === 0) return { kind: 'stopped', reason: result.stderr.trim().slice(0, 500) };
  const messages = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.startsWith('CONFLICT'));
  return { kind: 'conflict', files, messages };
}
