import path from 'node:path';
import { assertOwnConfig } from './clone-config.js';
import { runToEnd } from '../process/launcher.js';
import { redact } from '../text.js';

export interface GitOptions {
  cwd: string;
  /** Added to the runner's own environment, e.g. auth config for fetch/push or author identity. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Written to git's stdin. */
  input?: string;
  /** Strings replaced by `***` wherever a GitError would show them. */
  secrets?: readonly string[];
}

export interface GitResultOptions extends GitOptions {
  /** Exit codes the caller handles itself: these return a GitResult instead of throwing. */
  expectedExitCodes: readonly number[];
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(
    /** The arguments after `git`, secrets redacted. */
    readonly args: readonly string[],
    /** null when git was killed by a signal or could not start. */
    readonly code: number | null,
    /** Secrets redacted. */
    readonly stderr: string,
    cwd: string,
  ) {
    const detail = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
    super(`git ${args.join(' ')} failed in ${cwd} (${code === null ? 'no exit code' : `exit ${code}`})${detail}`);
    this.name = 'GitError';
  }
}

/**
 * Variables taken from our own environment: where things are, proxies and certificate authorities.
 * Everything else (tokens, keys, the webhook secret, other GIT_* variables) stays behind: git and whatever it spawns see only these and what callers add.
 */
const INHERITED = [
  'PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH',
];

const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * What git must never read or run on the app's behalf: system and user config files (the app user's
 * `~/.gitconfig` is as writable as anything of that user), hooks, the fsmonitor, and the `ext::`
 * transport. A cached clone's own config is checked separately (clone-config.ts).
 */
const FIXED_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'protocol.ext.allow=never'];

/**
 * Worktrees by folder, with the git dir and clone recorded when each was made. A command in the
 * worktree could rewrite its `.git` file to point at a git dir of its own making, so git in a
 * worktree always runs with the recorded GIT_DIR and GIT_WORK_TREE, never reading that file.
 */
const recordedWorktrees = new Map<string, { gitDir: string; cloneDir: string }>();

export function recordWorktree(dir: string, recorded: { gitDir: string; cloneDir: string }): void {
  recordedWorktrees.set(path.resolve(dir), recorded);
}

export function forgetWorktree(dir: string): void {
  recordedWorktrees.delete(path.resolve(dir));
}

/**
 * Runs git with a fixed locale, no prompts, no hooks and none of the config above: a hook or an
 * fsmonitor planted in a cached clone would otherwise run with the token in its environment during
 * push. Transports are off unless the caller allows its remote's (`GIT_ALLOW_PROTOCOL` in `env`).
 * In a recorded worktree, git runs with its recorded git dir once the clone's config is verified.
 * Resolves to stdout (untrimmed), or to the full result when `expectedExitCodes` lists the exit
 * code; throws GitError otherwise.
 */
export function runGit(args: readonly string[], options: GitResultOptions): Promise<GitResult>;
export function runGit(args: readonly string[], options: GitOptions): Promise<string>;
export async function runGit(args: readonly string[], options: GitOptions & { expectedExitCodes?: readonly number[] }): Promise<GitResult | string> {
  const result = await spawnGit(args, options);
  if (result.code === 0 && options.expectedExitCodes === undefined) return result.stdout;
  if (result.code !== null && (result.code === 0 || options.expectedExitCodes?.includes(result.code))) {
    return { code: result.code, stdout: result.stdout, stderr: result.stderr };
  }
  const secrets = options.secrets ?? [];
  throw new GitError(args.map((a) => redact(a, secrets)), result.code, redact(result.stderr, secrets), options.cwd);
}

async function spawnGit(args: readonly string[], options: GitOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = { GIT_ALLOW_PROTOCOL: '' };
  for (const name of INHERITED) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, options.env, { LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
  const worktree = recordedWorktrees.get(path.resolve(options.cwd));
  if (worktree) {
    await assertOwnConfig(worktree.cloneDir);
    Object.assign(env, { GIT_DIR: worktree.gitDir, GIT_WORK_TREE: path.resolve(options.cwd) });
  }

  // rejects when aborted, when git could not start or when its output is too large: not an answer from git
  return runToEnd('git', [...FIXED_CONFIG, ...args], { cwd: options.cwd, env, signal: options.signal, input: options.input, maxBuffer: MAX_OUTPUT_BYTES });
}

