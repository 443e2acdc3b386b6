import type { MarkedComments } from '../github/marked-comment.js';
import type { GitHub, PullInfo } from '../github/port.js';
import type { Logger } from '../log.js';
import { readCiLedger, writeCiLedger } from './ci-ledger.js';
import { ciOf, peopleOf, type Feedback } from './feedback.js';
import { reportCiFailures } from './report-ci-failures.js';

/**
 * The feedback a revision run acts on, as it starts. CI feedback counts only for the head it failed on
 * (a push since, the person's revision it waited behind, say, gets new CI) and only within the PR's
 * rounds; the round is written to the PR's ledger before the agent runs, so that neither a restart nor
 * a redelivered webhook runs it again, and the checks' report is read now, for the head the agent sees.
 */
export async function takeCiFeedback(
  deps: { comments: MarkedComments },
  job: { github: GitHub; feedback: Feedback[]; config: { revise: { maxCiRounds: number } }; log: Logger },
  pull: PullInfo,
): Promise<Feedback[]> {
  const { github, log } = job;
  const people = peopleOf(job.feedback);
  const ci = ciOf(job.feedback).filter((f) => f.sha === pull.headSha).at(-1);
  if (!ci) return people;
  const maxRounds = job.config.revise.maxCiRounds;
  const ledger = await readCiLedger(deps.comments, github, pull.number);
  if (ledger.rounds.some((r) => r.sha === ci.sha) || ledger.rounds.length >= maxRounds) {
    log.info({ sha: ci.sha, rounds: ledger.rounds.length }, 'ci feedback dropped: this head had its round, or none is left');
    return people;
  }
  ledger.rounds.push({ sha: ci.sha, checks: ci.checks.map((c) => c.name) });
  await writeCiLedger(deps.comments, github, pull.number, ledger, maxRounds);
  const report = await reportCiFailures(github, ci.checks);
  return [...people, { ...ci, round: { n: ledger.rounds.length, of: maxRounds }, report }];
}
