import type { AgentResult } from '../agents/agent.js';
import { coAuthoredBy } from '../github/bot-identity.js';
import { changedFiles, commitAll } from '../git/worktree-git.js';
import { CHECK_NAME, FAILED_LABEL } from '../names.js';
import { throwIfAborted } from '../throw-if-aborted.js';
import { blockedPaths } from '../pipeline/blocked-paths.js';
import type { IssueJob, IssueJobOutcome, MapDeps } from './issue-job.js';
import { findSiblings } from './find-siblings.js';
import { renderPrBody } from './render-pr-body.js';
import { renderUsage } from '../pipeline/render-usage.js';
import { runPageUrl } from '../pipeline/run-page-url.js';
import { clipReason, finishFailed, type StatusWriter } from './status-writer.js';
import { clip } from '../text.js';
import type { Worktree } from '../git/worktree.js';

export interface Target {
  branch: string;
  base: string;
  title: string;
  /** The issue carries `agent:failed` from an earlier run, to be taken off once this one succeeds. */
  wasFailed: boolean;
  /** The branch belongs to an open PR (a retry): a failed run must not overwrite it. */
  hasOpenPull: boolean;
}

/** Step 6 of an issue's run: publish by outcome: commit, push and open (or update) the PR, or report why not. */
export async function publish(
  deps: MapDeps,
  job: IssueJob,
  status: StatusWriter,
  worktree: Worktree,
  target: Target,
  result: AgentResult,
  signal: AbortSignal,
): Promise<IssueJobOutcome> {
  const { issueNumber, config } = job;
  const files = await changedFiles(worktree.dir, { env: deps.gitEnv ?? {} });

  if (result.outcome === 'no-change' || result.outcome === 'not-actionable') {
    const reason = result.summary.trim() || (result.outcome === 'no-change' ? 'Nothing needed to change.' : 'The agent gave no reason.');
    await status.write({ status: { state: result.outcome, attempt: job.attempt, reason: clipReason(reason) } });
    return { kind: result.outcome, reason };
  }

  const blocked = blockedPaths(files, config.map.blockedPaths);
  if (blocked.length > 0) {
    return finishFailed(deps, job, status,
      `The agent changed files it may not change (map.blockedPaths), so nothing was pushed: ${blocked.map((f) => `\`${f}\``).join(', ')}.`);
  }

  if (result.outcome === 'failed') {
    // partial work goes to the branch, unless that branch is an open PR's good work
    const keep = files.length > 0 && !target.hasOpenPull;
    const pushed = keep ? await commitAndPush(deps, job, worktree, target, `WIP: ${target.title}`, signal) : null;
    return finishFailed(deps, job, status, result.summary || 'The agent failed without saying why.', pushed ? target.branch : undefined);
  }

  if (files.length === 0) {
    const reason = 'The agent said it changed files, but the worktree has no changes.';
    await status.write({ status: { state: 'no-change', attempt: job.attempt, reason } });
    return { kind: 'no-change', reason };
  }

  const pushed = await commitAndPush(deps, job, worktree, target, target.title, signal);
  if (!pushed) return finishFailed(deps, job, status, `The push to \`${target.branch}\` was rejected: the branch moved while the agent worked.`);

  const siblings = await findSiblings(deps, job, worktree, { base: target.base, headSha: pushed, files });
  const { pull, kind } = await openOrUpdatePull(job, target, renderPrBody({
    issueNumber, summary: result.summary, files, usage: result.usage, requester: job.requester.login, attempt: job.attempt, siblings,
  }));
  // the PR is open: what follows is reporting, and its failure must not mark the run failed
  await reportPull(deps, job, status, target, { pull, opened: kind === 'pr-opened', sha: pushed, files, result });
  return { kind, pr: pull.number };
}

/** Opens the PR, or updates the one GitHub says is already open from the branch (a retried or repeated run). */
async function openOrUpdatePull(job: IssueJob, target: Target, body: string): Promise<{ pull: { number: number; url: string }; kind: 'pr-opened' | 'pr-updated' }> {
  const { github } = job;
  const created = await github.createPull({ title: target.title, body, head: target.branch, base: target.base });
  if (created !== 'exists') return { pull: created, kind: 'pr-opened' };
  const open = await github.findOpenAgentPull(job.issueNumber);
  if (!open) throw new Error(`GitHub says a PR from ${target.branch} exists, but none is open`);
  await github.updatePull(open.number, { title: target.title, body });
  return { pull: open, kind: 'pr-updated' };
}

/** The profile's note, the check run on the pushed head, the failed label off, and the status comment on the PR. */
async function reportPull(
  deps: MapDeps, job: IssueJob, status: StatusWriter, target: Target,
  run: { pull: { number: number; url: string }; opened: boolean; sha: string; files: string[]; result: AgentResult },
): Promise<void> {
  const { github, issueNumber } = job;
  const { pull, files, result } = run;
  deps.profile.record({
    repo: `${github.owner}/${github.repo}`, issue: issueNumber, type: 'pull', pr: pull.number, url: pull.url, base: target.base, opened: run.opened,
    sha: run.sha, summary: result.summary, files,
  });
  await github.createCheckRun({
    name: CHECK_NAME,
    headSha: run.sha,
    status: 'completed',
    conclusion: 'success',
    title: `Agent run ${job.attempt}: ${files.length} file${files.length === 1 ? '' : 's'} changed`,
    summary: `${renderUsage(result.usage)}\n\n${clip(result.summary, 60_000)}`,
    ...runPageUrl(deps.settings, github, issueNumber),
  }).catch((err: unknown) => job.log.warn({ err }, 'check run not created'));
  if (target.wasFailed) await github.removeLabel(issueNumber, FAILED_LABEL).catch((err: unknown) => job.log.warn({ err }, 'label not removed'));
  await status.write({
    status: { state: 'pr-open', attempt: job.attempt, pr: pull.number, branch: target.branch },
    prUrl: pull.url,
    usageLine: renderUsage(result.usage),
  });
}

/** What a plan-first run is asked for, or the plan an implementation run follows. */

/** Commits everything as the app's bot user, credits the requester, and pushes; the new head, or null if rejected. */
async function commitAndPush(
  deps: MapDeps,
  job: IssueJob,
  worktree: Worktree,
  target: Target,
  subject: string,
  signal: AbortSignal,
): Promise<string | null> {
  throwIfAborted(signal);
  const identity = await deps.botIdentity(job.github);
  const message = `${subject} (#${job.issueNumber})\n\n${coAuthoredBy(job.requester, deps.settings.noreplyDomain)}\n`;
  const sha = await commitAll(worktree.dir, { message, author: identity }, { env: deps.gitEnv ?? {} });
  if (!sha) return null;
  const expectedSha = await deps.workspace.remoteBranchSha(worktree, target.branch);
  const result = await job.github.withGitToken('write', (token) => deps.workspace.push(worktree, { token, lease: { expectedSha } }));
  if (result.kind === 'rejected') {
    job.log.warn({ reason: result.reason }, 'push rejected');
    return null;
  }
  return result.sha;
}
