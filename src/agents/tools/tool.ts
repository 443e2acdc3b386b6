import type { z } from 'zod';
import type { Sandbox } from '../../sandbox/sandbox.js';

/** What a tool may touch: its worktree, and commands on the allow list, nothing else. */
export interface ToolContext {
  /** Absolute, real path of the worktree. */
  worktree: string;
  /** The worktree's own bare clone, read-only to its commands. */
  cloneDir: string;
  /** Where `run_command` runs its commands. */
  sandbox: Sandbox;
  signal: AbortSignal;
  /** `map.allowedCommands`: exact command lines, or prefixes ending in ` *` that allow arguments. */
  allowedCommands: string[];
  /** How long a command may still run: the smaller of the per-command limit and the run's remaining wall time. */
  commandTimeoutMs(): number;
  /** Extra environment for git (tests shut out the machine's git config); never secrets. */
  gitEnv?: Record<string, string>;
}

/** One tool the built-in agent can call. Its input is validated against `input` before `run`. */
export interface AgentTool<Input = any> {
  name: string;
  description: string;
  input: z.ZodType<Input>;
  /** The text the model sees as the result. Throw ToolError for a refusal or failure it should see. */
  run(input: Input, context: ToolContext): Promise<string>;
}

/** A failure the model is told about (as an error tool result), so that it can correct itself. */
export class ToolError extends Error {
  override name = 'ToolError';
}
