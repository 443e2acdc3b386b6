import type { JobSlot } from '../jobs/job-queue.js';
import { agentBudget, type AgentResult } from '../agents/agent.js';
import type { RepoConfig } from '../config/schema.js';
import { coAuthoredBy } from '../github/bot-identity.js';
import type { GitHub, IssueInfo, PullInfo, RepositoryInfo } from '../github/port.js';
import type { PushOutcome } from '../git/push-to-remote.js';
import type { Worktree } from '../git/worktree.js';
import { withWorktree } from '../jobs/with-worktree.js';
import { changedFiles, commitAll, diffAgainst } from '../git/worktree-git.js';
import type { Logger } from '../log.js';
import { blockedPaths } from '../pipeline/blocked-paths.js';
import { buildTask } from '../pipeline/build-task.js';
import { renderUsage } from '../pipeline/render-usage.js';
import { checkoutPullHead } from './checkout-pull-head.js';
import { runSetup } from '../pipeline/run-setup.js';
import type { IssueStatus } from '../status/issue-status.js';
import { ciOf, feedbackInstructions, peopleOf, renderFeedback, type Feedback } from './feedback.js';
import { takeCiFeedback } from './take-ci-feedback.js';
import { capitalise } from '../text.js';
import { CHECK_NAME } from '../names.js';
import { runPageUrl } from '../pipeline/run-page-url.js';
import type { JobDeps } from '../pipeline/job-deps.js';

/** What a revision needs from the process: what every job needs. */
export type RevisionDeps = JobDeps;

export interface RevisionJob {
  github: GitHub;
  repository: RepositoryInfo;
  pullNumber: number;
  issueNumber: number;
  config: RepoConfig;
  feedback: Feedback[];
  log: Logger;
}

export type RevisionOutcome =
  | { kind: 'revised'; sha: string }
  | { kind: 'no-change' | 'failed' | 'skipped' | 'cancelled'; reason: string };

const MAX_DIFF = 60_000;

/**
 * One revision of an agent PR (DESIGN §4):
 * 1. re-read the PR; stop if it is closed; refuse, with the total, once the issue's budget is spent;
 *    take the feedback that still holds (failing checks only for this head, within the PR's CI
 *    rounds); say on the issue's status comment that it is revising;
 * 2. cut a worktree at the PR's head and run the repository's setup;
 * 3. run the agent with the original task, the PR's current diff and the feedback;
 * 4. judge: no change, or changes under blocked paths, are answered on the PR and end here;
 * 5. commit on top, crediting the reviewers, and push with a lease on the head it started from;
 * 6. announce: a check run on the new head and one reply on the PR, what changed and at what cost;
 * 7. the status comment goes back to the open PR, whatever happened.
 */
export async function runRevisionJob(deps: RevisionDeps, asked: RevisionJob, signal: AbortSignal, slot?: JobSlot): Promise<RevisionOutcome> {
  const { github, pullNumber, config, log } = asked;
  const pull = await github.getPull(pullNumber);
  if (!pull.open) return { kind: 'skipped', reason: 'the PR is closed' };
  // before a CI round is taken: a refused run must not count as one
  const overBudget = await deps.spend.refusal(github, asked.issueNumber, config);
  if (overBudget) {
    await github.createComment(pullNumber, addressed(asked, `the agent may not revise this PR: ${overBudget}`));
    return { kind: 'skipped', reason: overBudget };
  }
  const job = { ...asked, feedback: await takeCiFeedback(deps, asked, pull) };
  if (job.feedback.length === 0) return { kind: 'skipped', reason: 'the failing checks were for an earlier head, or no CI round is left' };
  const reply = (text: string) => github.createComment(pullNumber, addressed(job, text));
  const issue = await github.getIssue(job.issueNumber);
  const setStatus = revisionStatus(deps, job, pull);
  await setStatus('running');
  try {
    return await withWorktree(deps.workspace, () => checkoutPullHead(deps.workspace, github, job.repository, pull), async ({ worktree, startSha }) => {
      const deadline = Date.now() + config.map.timeoutMinutes * 60_000;
      const setupFailure = await runSetup({ sandbox: deps.sandbox, worktree, commands: config.map.setup, hosts: deps.settings.setupHosts, deadline, signal });
      if (setupFailure) {
        await reply(`the revision did not run: ${setupFailure}`);
        return { kind: 'failed', reason: setupFailure };
      }
      const result = await runAgent(deps, job, worktree, await revisionTask(deps, github, issue, pull, worktree), deadline, signal);
      slot?.release(); // the next job's agent may start while this one pushes
      const files = await changedFiles(worktree.dir, { env: deps.gitEnv ?? {} });
      const refusal = judge(job, result, files);
      if (refusal) {
        await reply(refusal.text);
        return refusal.outcome;
      }
      const pushed = await commitAndPush(deps, job, worktree, startSha);
      if (pushed.kind === 'rejected') {
        await reply(`the revision was not pushed: \`${pull.headRef}\` moved while the agent worked (${pushed.reason}). Comment \`/agent revise\` again to revise the new head.`);
        return { kind: 'failed', reason: `push rejected: ${pushed.reason}` };
      }
      await announce(deps, job, pushed.sha, files, result);
      log.info({ sha: pushed.sha }, 'revision pushed');
      return { kind: 'revised', sha: pushed.sha };
    }, { signal, log });
  } catch (error) {
    if (signal.aborted) return { kind: 'cancelled', reason: 'cancelled' };
    log.error({ err: error }, 'revision failed unexpectedly');
    await reply(`the revision failed: ${error instanceof Error ? error.message : String(error)}`).catch(() => {});
    return { kind: 'failed', reason: String(error) };
  } finally {
    await setStatus('pr-open');
  }
}

/** Who gave the feedback, as mentions: the replies are addressed to them (none when only CI sent the agent back). */
function reviewersOf(job: RevisionJob): string {
  return [...new Set(peopleOf(job.feedback).map((f) => `@${f.author}`))].join(', ');
}

/** A reply to the people who gave the feedback, or to whoever reads the PR. */
function addressed(job: RevisionJob, text: string): string {
  const mentions = reviewersOf(job);
  return mentions ? `${mentions} ${text}` : capitalise(text);
}

/**
 * An issue's status comment, where it has one, follows the revision: revising, then back to the open
 * PR, one round more. Without one the issue shows nothing new: the PR is where the revision happens.
 */
function revisionStatus(deps: RevisionDeps, job: RevisionJob, pull: PullInfo): (state: 'running' | 'pr-open') => Promise<void> {
  let round: number | undefined;
  return (state) => deps.statuses.update(job.github, job.issueNumber, (previous) => {
    round ??= (previous.revision ?? 0) + 1;
    const status: IssueStatus = { ...previous, state, pr: job.pullNumber, revision: round, branch: pull.headRef };
    delete status.reason;
    return { status, prUrl: pull.url };
  }).catch((err: unknown) => job.log.warn({ err }, 'status not written'));
}

/** The original task and the PR's diff so far. */
async function revisionTask(deps: RevisionDeps, github: GitHub, issue: IssueInfo, pull: PullInfo, worktree: Worktree): Promise<string> {
  const diff = await diffAgainst(worktree.dir, `origin/${pull.baseRef}`, { env: deps.gitEnv ?? {} });
  return [
    buildTask(`${github.owner}/${github.repo}`, issue, []),
    '',
    `# Your PR #${pull.number} so far: its diff against ${pull.baseRef}`,
    '',
    '```diff',
    diff.length > MAX_DIFF ? `${diff.slice(0, MAX_DIFF)}\n[… diff cut]` : diff,
    '```',
  ].join('\n');
}

async function runAgent(deps: RevisionDeps, job: RevisionJob, worktree: Worktree, task: string, deadline: number, signal: AbortSignal): Promise<AgentResult> {
  const ref = { repo: `${job.github.owner}/${job.github.repo}`, issue: job.issueNumber };
  const result = await deps.createAgent(job.config).run({
    worktree: worktree.dir,
    cloneDir: worktree.cloneDir,
    task,
    feedback: `${feedbackInstructions(job.feedback)}\n\n${renderFeedback(job.feedback)}`,
    budget: agentBudget(job.config, Math.max(0, deadline - Date.now()), await deps.spend.left(job.github, job.issueNumber, job.config)),
    signal,
    onStep: (tool) => deps.profile.record({ ...ref, type: 'step', tool }),
  });
  deps.profile.record({ ...ref, type: 'agent-used', work: 'revision', usage: result.usage });
  await deps.spend.add(job.github, job.issueNumber, result.usage.costUsd);
  if (signal.aborted) throw signal.reason;
  return result;
}

/** Why the revision is not pushed, and the reply that says so; undefined when it is. */
function judge(job: RevisionJob, result: AgentResult, files: string[]): { outcome: RevisionOutcome; text: string } | undefined {
  if (result.outcome !== 'changed' || files.length === 0) {
    const reason = result.summary.trim() || 'The agent made no change.';
    return {
      outcome: { kind: result.outcome === 'failed' ? 'failed' : 'no-change', reason },
      text: `the agent looked at ${peopleOf(job.feedback).length > 0 ? 'your feedback' : 'the failing checks'} and pushed no change${result.outcome === 'failed' ? ' (the run failed)' : ''}:\n\n> ${reason.replaceAll('\n', '\n> ')}\n\nRun: ${renderUsage(result.usage)}`,
    };
  }
  const blocked = blockedPaths(files, job.config.map.blockedPaths);
  if (blocked.length === 0) return undefined;
  return {
    outcome: { kind: 'failed', reason: 'blocked paths' },
    text: `the revision was not pushed: the agent changed files it may not change (map.blockedPaths): ${blocked.map((f) => `\`${f}\``).join(', ')}.`,
  };
}

/** Commits on top as the app's bot, crediting the reviewers, and pushes with a lease on the head the revision started from. */
async function commitAndPush(deps: RevisionDeps, job: RevisionJob, worktree: Worktree, startSha: string | null): Promise<PushOutcome> {
  const identity = await deps.botIdentity(job.github);
  const people = peopleOf(job.feedback);
  const reviewers = new Map(people.map((f) => [f.author, { login: f.author, id: f.authorId }]));
  const trailers = [...reviewers.values()].map((actor) => coAuthoredBy(actor, deps.settings.noreplyDomain));
  const what = people.length === 0 ? 'Fix failing checks' : people.length < job.feedback.length ? 'Address review feedback and failing checks' : 'Address review feedback';
  const message = `${what} on #${job.pullNumber}\n${trailers.length > 0 ? `\n${trailers.join('\n')}\n` : ''}`;
  const sha = await commitAll(worktree.dir, { message, author: identity }, { env: deps.gitEnv ?? {} });
  if (!sha) throw new Error('nothing to commit after the agent changed files');
  return job.github.withGitToken('write', (token) => deps.workspace.push(worktree, { token, lease: { expectedSha: startSha } }));
}

/** A check run on the new head, the profile's note, and one reply on the PR. */
async function announce(deps: RevisionDeps, job: RevisionJob, sha: string, files: string[], result: AgentResult): Promise<void> {
  const { github } = job;
  const usage = renderUsage(result.usage);
  await github.createCheckRun({
    name: CHECK_NAME,
    headSha: sha,
    status: 'completed',
    conclusion: 'success',
    title: `Revision: ${files.length} file${files.length === 1 ? '' : 's'} changed`,
    summary: `${usage}\n\n${result.summary}`.slice(0, 60_000),
    ...runPageUrl(deps.settings, github, job.issueNumber),
  });
  deps.profile.record({ repo: `${github.owner}/${github.repo}`, issue: job.issueNumber, type: 'revised', pr: job.pullNumber, sha });
  await github.createComment(job.pullNumber, addressed(job,
    `revised in ${sha.slice(0, 7)}${ciRoundOf(job)}:\n\n${result.summary.trim()}\n\nFiles: ${files.map((f) => `\`${f}\``).join(', ')}\n\nRun: ${usage}`));
}

/** Which CI round the revision was, for its reply: people count the rounds before the agent stops. */
function ciRoundOf(job: RevisionJob): string {
  const round = ciOf(job.feedback).at(-1)?.round;
  return round ? ` to fix the failing checks (CI round ${round.n} of ${round.of})` : '';
}
