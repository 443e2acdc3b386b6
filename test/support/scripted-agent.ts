import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Agent, AgentRequest, AgentResult } from '../../src/agents/agent.js';
import { emptyUsage } from '../../src/agents/agent.js';

export type Act = (request: AgentRequest, issueNumber: number) => Promise<AgentResult>;

/** Waits, but gives up at once when the run is cancelled. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

export function usage(overrides: Partial<ReturnType<typeof emptyUsage>> = {}) {
  return { ...emptyUsage(), turns: 3, inputTokens: 1200, outputTokens: 300, costUsd: 0.01, durationMs: 1500, ...overrides };
}

/** The default act: write one file named after the issue, after a delay. */
export function writeOneFile(delayMs = 0): Act {
  return async (request, issueNumber) => {
    await sleep(delayMs, request.signal);
    const file = path.join(request.worktree, 'changes', `issue-${issueNumber}.txt`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `resolved issue ${issueNumber}\n`);
    return { outcome: 'changed', summary: `Added changes/issue-${issueNumber}.txt.\n\nVerified: by reading it back.`, usage: usage() };
  };
}

/**
 * A stand-in for a coding agent, for map tests until the real agents land: it edits files in its
 * worktree as scripted per issue and records how many runs overlapped.
 */
export class ScriptedAgent implements Agent {
  running = 0;
  maxRunning = 0;
  readonly requests: AgentRequest[] = [];
  readonly #acts = new Map<number, Act>();

  constructor(private readonly defaultAct: Act = writeOneFile()) {}

  /** Scripts what the agent does for one issue (the default act for the others). */
  on(issueNumber: number, act: Act): this {
    this.#acts.set(issueNumber, act);
    return this;
  }

  async run(request: AgentRequest): Promise<AgentResult> {
    const issueNumber = Number(/Resolve issue #(\d+)/.exec(request.task)?.[1]);
    this.requests.push(request);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await (this.#acts.get(issueNumber) ?? this.defaultAct)(request, issueNumber);
    } finally {
      this.running--;
    }
  }
}
