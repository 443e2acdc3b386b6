import type { RepoConfig } from '../config/schema.js';
import type { KeyedMutex } from '../git/keyed-mutex.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { GitHub, PullInfo, RepositoryInfo } from '../github/port.js';
import type { Logger } from '../log.js';
import { issueOfBranch } from '../names.js';
import type { ProfileRecorder } from '../profile/profile-event.js';
import { leftToPeopleText, readCiLedger, writeCiLedger, type CiLedger } from './ci-ledger.js';
import { decideCiRound, requiredState, type CiDecision, type HeadChecks } from './decide-ci-round.js';
import { ciFeedbackId } from './feedback.js';
import type { RevisionService } from './revision-service.js';

export interface CiResultDeps {
  comments: MarkedComments;
  revisions: Pick<RevisionService, 'request'>;
  profile: ProfileRecorder;
  /** One look per PR at a time: two events for one head must not both send the agent back, or both leave the PR. */
  serial: KeyedMutex;
}

/** A check or a commit status of `sha` changed. */
export interface CiResult {
  github: GitHub;
  repository: RepositoryInfo;
  sha: string;
  config: RepoConfig;
  log: Logger;
}

/**
 * What a finished check or a commit status on an agent PR's head leads to (DESIGN §4, CI rounds):
 * 1. find the open PRs on agent branches whose head the commit is (a fork's too: step 4 turns it down);
 * 2. read the head's checks and which of them the base requires; tell the profile where they stand;
 * 3. once every required check has finished and one is red, read what fails on the base's tip, and the PR's ledger;
 * 4. decide: send the agent back, leave the PR to people, or nothing (`decideCiRound`);
 * 5. act: ask for a revision run with the failing checks, or say on the PR that a person must look.
 */
export async function reviewCiResult(deps: CiResultDeps, result: CiResult): Promise<void> {
  const { github } = result;
  for (const pull of await agentPullsAt(result)) { // 1.
    await deps.serial.run(`${github.owner}/${github.repo}#${pull.number}`, async () => {
      const head = await readHeadChecks(github, pull); // 2.
      if (!pull.fromFork) recordChecks(deps.profile, result, pull, head);
      const finishedRed = head.state === 'failed' && head.finished && !pull.fromFork;
      const snapshot = finishedRed ? await readSnapshot(deps, github, pull) : { failingOnBase: [], ledger: { rounds: [] } }; // 3.
      const decision = decideCiRound({ sha: result.sha, fromFork: pull.fromFork, head, ...snapshot, maxRounds: result.config.revise.maxCiRounds }); // 4.
      await actOn(deps, result, pull, snapshot.ledger, decision); // 5.
    });
  }
}

/** Step 1. */
async function agentPullsAt({ github, sha, log }: CiResult): Promise<PullInfo[]> {
  const pulls = (await github.listOpenPulls()).filter((p) => p.headSha === sha && issueOfBranch(p.headRef) !== undefined);
  if (pulls.length === 0) log.info({ sha, decision: 'no-agent-pull' }, 'ci result');
  return pulls;
}

/** Step 2: the required checks are read only when some check is not green (all green is green whatever is required). */
async function readHeadChecks(github: GitHub, pull: PullInfo): Promise<HeadChecks> {
  const checks = await github.listChecks(pull.headSha);
  const required = checks.every((c) => c.state === 'success') ? [] : await github.listRequiredChecks(pull.baseRef);
  return requiredState(checks, required);
}

function recordChecks(profile: ProfileRecorder, { github, sha }: CiResult, pull: PullInfo, head: HeadChecks): void {
  if (head.state === 'none') return;
  profile.record({
    repo: `${github.owner}/${github.repo}`, issue: issueOfBranch(pull.headRef)!, type: 'checks', pr: pull.number, sha, state: head.state,
    ...(head.state === 'failed' ? { failed: head.failed.map((c) => c.name) } : {}),
  });
}

/** Step 3. */
async function readSnapshot(deps: CiResultDeps, github: GitHub, pull: PullInfo): Promise<{ failingOnBase: string[]; ledger: CiLedger }> {
  const [base, ledger] = await Promise.all([github.listChecks(pull.baseRef), readCiLedger(deps.comments, github, pull.number)]);
  return { failingOnBase: base.filter((c) => c.state === 'failure').map((c) => c.name), ledger };
}

/** Step 5. Leaving the PR is written to the ledger first, so that a restart does not say it twice; people hear it once per PR. */
async function actOn(deps: CiResultDeps, result: CiResult, pull: PullInfo, ledger: CiLedger, decision: CiDecision): Promise<void> {
  const { github, sha, config, log } = result;
  const issueNumber = issueOfBranch(pull.headRef)!;
  const logged = { pr: pull.number, issue: issueNumber, sha, decision: decision.kind };
  if (decision.kind === 'fix') {
    const asked = deps.revisions.request({
      github, repository: result.repository, pullNumber: pull.number, issueNumber, config, log: log.child({ pr: pull.number, issue: issueNumber }),
      feedback: { kind: 'ci', id: ciFeedbackId(sha), sha, checks: decision.checks },
    });
    log.info({ ...logged, checks: decision.checks.map((c) => c.name), round: decision.round, asked }, 'ci result');
    return;
  }
  if (decision.kind !== 'leave') {
    log.info({ ...logged, reason: decision.reason }, 'ci result');
    return;
  }
  const maxRounds = config.revise.maxCiRounds;
  await writeCiLedger(deps.comments, github, pull.number, { ...ledger, left: sha }, maxRounds);
  const names = decision.checks.map((c) => c.name);
  if (ledger.left === undefined) await github.createComment(pull.number, leftToPeopleText(names, sha, decision.rounds, maxRounds));
  log.info({ ...logged, checks: names, rounds: decision.rounds }, 'ci result');
}
