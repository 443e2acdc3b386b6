import type { GitHub } from '../github/port.js';
import { readMarker, type MarkedComments } from '../github/marked-comment.js';

/** The kind of the PR's one comment that counts its CI rounds. */
export const CI_ROUNDS_KIND = 'ci-rounds';

/**
 * The CI rounds of one PR: for each run that sent the agent back on red checks, the head it was for
 * and which checks failed; and the head on which the PR was left to people, if it was. It lives in a
 * marked comment on the PR, written before the agent runs, so the count survives a restart, a lost
 * queue and redelivered webhooks, and people see it; a commit trailer would miss the runs that
 * pushed nothing, and a run cut short before its push.
 */
export interface CiLedger {
  rounds: Array<{ sha: string; checks: string[] }>;
  left?: string;
}

export async function readCiLedger(comments: MarkedComments, github: GitHub, pullNumber: number): Promise<CiLedger> {
  const body = await comments.read(github, pullNumber, CI_ROUNDS_KIND);
  const data = body === undefined ? {} : readMarker(body)?.data ?? {};
  const rounds = Array.isArray(data.rounds) ? data.rounds.filter(isRound).map((r) => ({ sha: r.sha, checks: r.checks.filter((c) => typeof c === 'string') })) : [];
  return { rounds, ...(typeof data.left === 'string' ? { left: data.left } : {}) };
}

function isRound(value: unknown): value is { sha: string; checks: unknown[] } {
  const round = value as { sha?: unknown; checks?: unknown } | null;
  return typeof round?.sha === 'string' && Array.isArray(round.checks);
}

export function writeCiLedger(comments: MarkedComments, github: GitHub, pullNumber: number, ledger: CiLedger, maxRounds: number): Promise<void> {
  return comments.upsert(github, pullNumber, CI_ROUNDS_KIND, renderCiLedger(ledger, maxRounds), ledger);
}

const names = (checks: string[]) => checks.map((c) => `\`${c.replaceAll('`', "'")}\``).join(', ');

/** The ledger as people read it on the PR: one line per round, and why the agent stopped. */
export function renderCiLedger(ledger: CiLedger, maxRounds: number): string {
  const lines = [`**CI fixes by the agent** (at most ${maxRounds} per PR, \`revise.maxCiRounds\`)`, ''];
  ledger.rounds.forEach((round, i) => {
    lines.push(`- round ${i + 1}: ${names(round.checks)} failed on ${round.sha.slice(0, 7)}; the agent was sent back to fix it`);
  });
  if (ledger.left) lines.push('', `❌ **Left to people** from ${ledger.left.slice(0, 7)} on: no rounds left.`);
  return lines.join('\n');
}

/** The comment that hands a red PR to people: which checks, after how many rounds, and that a person must look. */
export function leftToPeopleText(checks: string[], sha: string, rounds: number, maxRounds: number): string {
  const after = rounds === 1 ? 'one round' : `${rounds} rounds`;
  return `❌ ${names(checks)} still ${checks.length === 1 ? 'fails' : 'fail'} on ${sha.slice(0, 7)} after ${after} of fixes by the agent ` +
    `(\`revise.maxCiRounds\`: ${maxRounds}), so the agent will not try again: **a person must look**.`;
}
