import type { ShellResult } from './run-shell.js';

/**
 * The one way repository or agent code runs (SANDBOX.md §1): `map.setup`, the built-in agent's
 * `run_command`, and a command agent's whole CLI. Each command gets its own sandbox that dies with it.
 */
export interface Sandbox {
  run(request: SandboxRequest): Promise<SandboxResult>;
}

/**
 * What a command gets: its worktree to write, its own clone to read, a private `/tmp` and `HOME`,
 * the network the request names and nothing else of the machine.
 */
export interface SandboxRequest {
  /** A command line for `sh -c`. */
  command: string;
  /** The run's worktree: the only folder of the machine the command may write. */
  worktree: string;
  /** The worktree's own bare clone (recorded when the worktree was made): read-only, so that `git status` and `git log` work. */
  cloneDir: string;
  /** Host folders the command may also write, mounted at the same path (a command agent's task and state files). */
  writable?: readonly string[];
  /**
   * none: no network at all (`run_command`); hosts: only these hosts (`name`, `name:port`,
   * `*.suffix`), through the app's allow-listing proxy (setup: package registries; a CLI: its model API).
   */
  network: { kind: 'none' } | { kind: 'hosts'; hosts: readonly string[] };
  /** Variables on top of the sandbox's own neutral environment (PATH, HOME, TMPDIR, CI…); never the app's. */
  env?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  stdin?: string;
  maxOutputBytes?: number;
  keep?: 'head' | 'tail';
}

/**
 * A finished command, with the hosts its allow-listing proxy refused it (`host:port`), or `refused`:
 * it never ran, and `output` says why in one sentence.
 */
export type SandboxResult =
  | (ShellResult & { refusedHosts?: readonly string[] })
  | { kind: 'refused'; exitCode: null; output: string; durationMs: 0 };

export function refused(reason: string): SandboxResult {
  return { kind: 'refused', exitCode: null, output: reason, durationMs: 0 };
}
