import type { GitHub } from '../github/port.js';

/** How many issues' spend a process remembers when it keeps it alone. */
const REMEMBERED = 20_000;

/** Where the sums are kept: in this process, or (a fleet) in Redis, shared by every process. */
export interface SpendStore {
  /** Adds whole micro-dollars and one run to the issue's sum. */
  add(key: string, micros: number): Promise<void>;
  get(key: string): Promise<{ micros: number; runs: number }>;
}

/**
 * What each issue has spent on agents over all its runs (the first, revisions, rebases, CI fixes),
 * against the repository's `agent.maxIssueCostUsd`: each run gets at most what is left, so the run
 * that reaches the cap stops there, and none starts after it. Kept by this process, or in a fleet's
 * Redis (then shared by its processes, and kept across their restarts).
 */
export class IssueSpend {
  readonly #store: SpendStore;

  constructor(store: SpendStore = new MemorySpendStore()) {
    this.#store = store;
  }

  add(github: GitHub, issueNumber: number, usd: number): Promise<void> {
    return this.#store.add(keyOf(github, issueNumber), micro(usd));
  }

  async spent(github: GitHub, issueNumber: number): Promise<number> {
    return (await this.#store.get(keyOf(github, issueNumber))).micros / 1e6;
  }

  /** What the issue may still spend; undefined when its repository sets no cap. */
  async left(github: GitHub, issueNumber: number, config: IssueCap): Promise<number | undefined> {
    const cap = config.agent.maxIssueCostUsd;
    if (cap === undefined) return undefined;
    const { micros } = await this.#store.get(keyOf(github, issueNumber));
    return Math.max(0, micro(cap) - micros) / 1e6;
  }

  /** Why no further run may start (the cap is reached), with the total; undefined while there is room. */
  async refusal(github: GitHub, issueNumber: number, config: IssueCap): Promise<string | undefined> {
    const cap = config.agent.maxIssueCostUsd;
    if (cap === undefined) return undefined;
    const { micros, runs } = await this.#store.get(keyOf(github, issueNumber));
    if (runs === 0 || micros < micro(cap)) return undefined;
    return `This issue has spent $${(micros / 1e6).toFixed(2)} on ${runs} agent run${runs === 1 ? '' : 's'}, ` +
      `which reaches its budget of $${cap.toFixed(2)} (\`agent.maxIssueCostUsd\`), so no further run starts. ` +
      'A maintainer can raise the budget in `.github/agent-mapreduce.yml`, or take it from here.';
  }
}

export interface IssueCap {
  agent: { maxIssueCostUsd?: number | undefined };
}

/** The sums in this process: a restart starts them from zero (see the README). */
export class MemorySpendStore implements SpendStore {
  readonly #spent = new Map<string, { micros: number; runs: number }>();

  async add(key: string, micros: number): Promise<void> {
    const now = this.#spent.get(key) ?? { micros: 0, runs: 0 };
    this.#spent.delete(key);
    this.#spent.set(key, { micros: now.micros + micros, runs: now.runs + 1 });
    if (this.#spent.size > REMEMBERED) this.#spent.delete(this.#spent.keys().next().value!);
  }

  async get(key: string): Promise<{ micros: number; runs: number }> {
    return this.#spent.get(key) ?? { micros: 0, runs: 0 };
  }
}

/** Dollars as whole micro-dollars: sums of run costs drift in floating point ($0.60 + $0.30 < $0.90). */
function micro(usd: number): number {
  return Math.round(usd * 1e6);
}

function keyOf(github: GitHub, issueNumber: number): string {
  return `${github.owner}/${github.repo}#${issueNumber}`;
}
