import type { AgentBudget, AgentUsage } from '../agent.js';

/** Turns, tokens and cost, as far as a CLI reports them. */
export type ParsedUsage = Partial<Pick<AgentUsage, 'turns' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'costUsd'>>;

export interface ParsedAgentOutput {
  /** success / error: the CLI said how the run ended; unknown: it printed no structured result. */
  status: 'success' | 'error' | 'unknown';
  /** success: the agent's final message; error: why it failed. */
  message?: string;
  usage: ParsedUsage;
}

export interface CommandLineContext {
  budget: AgentBudget;
  /** `map.allowedCommands`: exact command lines, or prefixes ending in ` *`. */
  allowedCommands: readonly string[];
  model?: string;
  /** A private folder outside the worktree, removed after the run, for files the CLI keeps for itself. */
  stateDir: string;
}

/**
 * A ready-made command line for a known agent CLI and the parser for what it prints
 * (DESIGN §3 Agents, command agent). A parser never throws: output it does not recognise is
 * `status: 'unknown'`, and the command agent then judges the run from the exit code and the diff.
 */
export interface CommandPreset {
  name: string;
  /** The command line, for `sh -c`; `{task_file}` in it is replaced by the task's path, otherwise the task goes to stdin. */
  commandLine(context: CommandLineContext): string;
  parse(output: string): ParsedAgentOutput;
  /** The model API hosts the CLI needs: its sandbox reaches nothing else (the operator may add more). */
  hosts: readonly string[];
  /** Variables the CLI always gets (switches, never secrets). */
  env?: Record<string, string>;
  /** Entries the CLI leaves at the worktree root for itself; new ones are removed after the run so they do not end up in the PR. */
  leftovers?: RegExp;
}
