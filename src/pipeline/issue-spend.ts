import type { GitHub } from '../github/port.js';

/** How many issues' spend the process remembers. */
const REMEMBERED = 20_000;

/**
 * What each issue has spent on agents over all its runs (the first, revisions, rebases, CI fixes),
 * against the repository's `agent.maxIssueCostUsd`: each run gets at most what is left, so the run
 * that reaches the cap stops there, and none starts after it. Kept by this process: a restart
 * starts each issue's sum again from zero (see the README).
 */
export class IssueSpend {
  readonly #spent = new Map<string, { usd: number; runs: number }>();

  add(github: GitHub, issueNumber: number, usd: number): void {
    const key = keyOf(github, issueNumber);
    const now = this.#spent.get(key) ?? { usd: 0, runs: 0 };
    this.#spent.delete(key);
    this.#spent.set(key, { usd: now.usd + usd, runs: now.runs + 1 });
    if (this.#spent.size > REMEMBERED) this.#spent.delete(this.#spent.keys().next().value!);
  }

  spent(github: GitHub, issueNumber: number): number {
    return this.#spent.get(keyOf(github, issueNumber))?.usd ?? 0;
  }

  /** What the issue may still spend; undefined when its repository sets no cap. */
  left(github: GitHub, issueNumber: number, config: IssueCap): number | undefined {
    const cap = config.agent.maxIssueCostUsd;
    return cap === undefined ? undefined : Math.max(0, micro(cap) - micro(this.spent(github, issueNumber))) / 1e6;
  }

  /** Why no further run may start (the cap is reached), with the total; undefined while there is room. */
  refusal(github: GitHub, issueNumber: number, config: IssueCap): string | undefined {
    const cap = config.agent.maxIssueCostUsd;
    const spent = this.#spent.get(keyOf(github, issueNumber));
    if (cap === undefined || !spent || micro(spent.usd) < micro(cap)) return undefined;
    return `This issue has spent $${spent.usd.toFixed(2)} on ${spent.runs} agent run${spent.runs === 1 ? '' : 's'}, ` +
      `which reaches its budget of $${cap.toFixed(2)} (\`agent.maxIssueCostUsd\`), so no further run starts. ` +
      'A maintainer can raise the budget in `.github/agent-mapreduce.yml`, or take it from here.';
  }
}

export interface IssueCap {
  agent: { maxIssueCostUsd?: number | undefined };
}

/** Dollars as whole micro-dollars: sums of run costs drift in floating point ($0.60 + $0.30 < $0.90). */
function micro(usd: number): number {
  return Math.round(usd * 1e6);
}

function keyOf(github: GitHub, issueNumber: number): string {
  return `${github.owner}/${github.repo}#${issueNumber}`;
}
