/**
 * The one interface every coding agent implements (DESIGN §3 Agents). An agent only edits files in
 * its worktree; the app commits, pushes and talks to GitHub.
 */
export interface Agent {
  /**
   * Optional: reads from the worktree what a run starts from (the built-in agent: the repository's
   * instructions for agents and its file tree) while the job still waits for its slot, so that the
   * run's first request goes out the moment it has one. A run not prepared reads it itself.
   */
  prepare?(worktree: string): Promise<void>;
  run(request: AgentRequest): Promise<AgentResult>;
}

export interface AgentRequest {
  /** The worktree the agent works in; nothing outside it may change. */
  worktree: string;
  /** The worktree's own bare clone: its commands see it read-only, so that `git status` and `git log` work. */
  cloneDir: string;
  /** What to do: the issue's title, body and writers' comments, already sanitised and fenced. */
  task: string;
  /** Review feedback for a revision run. */
  feedback?: string;
  /** Investigate only (plan-first mode): the agent gets no tool that changes files or runs commands. */
  readOnly?: boolean;
  budget: AgentBudget;
  /** Aborted on cancellation; the agent stops at its next step and kills its child processes. */
  signal: AbortSignal;
  /** Called as each tool call starts, with the tool's name (the run's timeline). */
  onStep?: (tool: string) => void;
  /** Called now and then (at most every few seconds) with what the run has used so far. */
  onProgress?: (progress: AgentProgress) => void;
}

export interface AgentBudget {
  maxTurns: number;
  maxCostUsd: number;
  maxTokens?: number;
  wallTimeMs: number;
}

/**
 * changed: files were edited and should become a PR; no-change: the agent finished and nothing
 * needed changing; not-actionable: the task cannot be done as asked (the agent says why);
 * failed: the run broke or hit a budget (the summary says which).
 */
export type AgentOutcome = 'changed' | 'no-change' | 'not-actionable' | 'failed';

export interface AgentResult {
  outcome: AgentOutcome;
  /** For the PR body or the status comment: what changed and why, how it was verified, open questions. */
  summary: string;
  usage: AgentUsage;
}

export interface AgentUsage {
  turns: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  costUsd: number;
  durationMs: number;
}

export interface AgentProgress extends AgentUsage {
  lastTool?: string;
}

export function emptyUsage(): AgentUsage {
  return { turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0, durationMs: 0 };
}

/**
 * The budget a repository's config gives one run, with the wall time it has left and, under
 * `agent.maxIssueCostUsd`, what the issue has left (the run that reaches the issue's cap stops there).
 */
export function agentBudget(config: { agent: { maxTurns: number; maxCostUsd: number; maxTokens?: number | undefined } }, wallTimeMs: number,
  issueLeftUsd?: number): AgentBudget {
  return {
    maxTurns: config.agent.maxTurns,
    maxCostUsd: Math.min(config.agent.maxCostUsd, issueLeftUsd ?? Infinity),
    ...(config.agent.maxTokens ? { maxTokens: config.agent.maxTokens } : {}),
    wallTimeMs,
  };
}
