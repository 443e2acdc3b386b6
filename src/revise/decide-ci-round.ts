import type { CheckState } from '../github/port.js';
import type { CiLedger } from './ci-ledger.js';

/** Where a head's required checks stand, as the PR's checks box would say. */
export interface HeadChecks {
  state: 'none' | 'pending' | 'passed' | 'failed';
  /** The required checks that failed. */
  failed: CheckState[];
  /** No required check is still running or yet to report. */
  finished: boolean;
}

/**
 * Which checks count: where the base branch requires some, only those (a required one that has not
 * reported yet is pending, as GitHub shows it "expected"); where none are configured, every check
 * other than this app's, as the reduce pass counts them.
 */
export function requiredState(checks: CheckState[], required: string[]): HeadChecks {
  const counted = required.length === 0 ? checks : checks.filter((c) => required.includes(c.name));
  const missing = required.filter((name) => !checks.some((c) => c.name === name));
  const failed = counted.filter((c) => c.state === 'failure');
  const finished = missing.length === 0 && counted.every((c) => c.state !== 'pending');
  const state = failed.length > 0 ? 'failed' : !finished ? 'pending' : counted.length > 0 ? 'passed' : 'none';
  return { state, failed, finished };
}

export interface CiSnapshot {
  sha: string;
  /** The PR's head is in a fork: whatever its branch is called, it is not the agent's. */
  fromFork: boolean;
  head: HeadChecks;
  /** The names of the checks that fail on the base branch's tip. */
  failingOnBase: string[];
  ledger: CiLedger;
  maxRounds: number;
}

export type CiDecision =
  | { kind: 'fix'; checks: CheckState[]; round: number }
  | { kind: 'leave'; checks: CheckState[]; rounds: number }
  | { kind: 'fork' | 'wait' | 'green' | 'not-ours' | 'off' | 'already-sent' | 'already-left'; reason: string };

/**
 * Whether red CI on an agent PR's head sends the agent back (DESIGN §4), as a pure decision over a
 * snapshot: never on a fork's PR; only once every required check has finished, so that one run gets every failure; never for
 * a check that fails on the base's tip as well (that failure is not the agent's); once per head; and at
 * most `maxRounds` times per PR, after which the PR is left to people, once.
 */
export function decideCiRound(snapshot: CiSnapshot): CiDecision {
  const { sha, head, ledger, maxRounds } = snapshot;
  if (snapshot.fromFork) return { kind: 'fork', reason: 'a fork’s PR is never run' };
  if (head.state === 'passed' || head.state === 'none') return { kind: 'green', reason: head.state === 'none' ? 'no checks' : 'the required checks passed' };
  if (!head.finished) return { kind: 'wait', reason: 'required checks are still running' };
  const ours = head.failed.filter((c) => !snapshot.failingOnBase.includes(c.name));
  if (ours.length === 0) return { kind: 'not-ours', reason: 'every failing check fails on the base branch too' };
  if (maxRounds === 0) return { kind: 'off', reason: 'revise.maxCiRounds is 0' };
  if (ledger.rounds.some((r) => r.sha === sha)) return { kind: 'already-sent', reason: 'the agent was already sent back for this head' };
  if (ledger.rounds.length < maxRounds) return { kind: 'fix', checks: ours, round: ledger.rounds.length + 1 };
  if (ledger.left === sha) return { kind: 'already-left', reason: 'already left to people on this head' };
  return { kind: 'leave', checks: ours, rounds: ledger.rounds.length };
}
