import { agentBudget, type Agent, type AgentResult } from '../agents/agent.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { GitHub } from '../github/port.js';
import { SecretInPushError } from '../git/push-to-remote.js';
import type { JobSlot } from '../jobs/job-queue.js';
import { withWorktree } from '../jobs/with-worktree.js';
import type { Worktree } from '../git/worktree.js';
import { committersSince } from '../git/worktree-git.js';
import { buildTask } from '../pipeline/build-task.js';
import { pullTitle } from './pull-title.js';
import { renderUsage } from '../pipeline/render-usage.js';
import { runSetup } from '../pipeline/run-setup.js';
import { throwIfAborted } from '../throw-if-aborted.js';
import { FAILED_LABEL, PLAN_KIND, branchName } from '../names.js';
import { type IssueJob, type IssueJobOutcome, type MapDeps, ShutdownError } from './issue-job.js';
import { type StatusWriter, finishFailed, statusWriter } from './status-writer.js';
import { clip } from '../text.js';
import { publish } from './publish-run.js';
import { syncClone } from '../pipeline/sync-clone.js';

/** A fetch of the base that started this recently serves a run that starts now. */
const SHARED_FETCH_MS = 15_000;

/** A plan is shown and kept in its comment's marker: twice this stays within GitHub's 65,536 characters. */
const MAX_PLAN_CHARS = 25_000;

/**
 * One issue's run, in the order of DESIGN §2-3:
 * 1. re-read the issue; stop if it is closed or no longer labelled, or already has its PR;
 * 2. say it is running;
 * 3. cut a worktree for the issue's branch from the base branch (ahead of the job's slot), then wait for the slot
 *    while the agent reads what it starts from;
 * 4. run the repository's setup commands;
 * 5. run the agent on the task, then give its slot to the next job (publishing needs no agent);
 * 6. publish by outcome: commit, push and open (or update) the PR, or report why not;
 * 7. give the worktree back, whatever happened (withWorktree: kept for reuse, or removed).
 */
export async function runIssueJob(deps: MapDeps, job: IssueJob, signal: AbortSignal, slot?: JobSlot): Promise<IssueJobOutcome> {
  const { github, issueNumber, config, log } = job;
  const base = config.map.baseBranch ?? job.repository.defaultBranch;
  const status = statusWriter(deps, job);

  const issue = await github.getIssue(issueNumber);
  const ref = { repo: `${github.owner}/${github.repo}`, issue: issueNumber };
  deps.profile.record({ ...ref, type: 'seen', title: issue.title });
  if (!issue.open || !issue.labels.includes(config.label)) {
    return { kind: 'skipped', reason: 'the issue is closed or no longer labelled' };
  }
  // an open PR keeps its branch even if the issue's title (and so its slug) changed since
  const existing = await github.findOpenAgentPull(issueNumber);
  let branch = existing?.headRef ?? branchName(issueNumber, issue.title);
  if (existing && !job.replaceOpenPull) {
    await status.write({ status: { state: 'pr-open', attempt: job.attempt, pr: existing.number, branch }, prUrl: existing.url });
    return { kind: 'skipped', reason: `PR #${existing.number} is already open` };
  }

  await status.write({ status: { state: 'running', attempt: job.attempt, branch } });
  const repo = { owner: github.owner, repo: github.repo, cloneUrl: job.repository.cloneUrl };
  try {
    const writerComments = issue.comments > 0 ? await writersOnly(deps.permissions, github, await github.listComments(issueNumber)) : [];
    const task = buildTask(`${github.owner}/${github.repo}`, issue, writerComments) + modeInstructions(job);
    // runs that start together, or soon after one another, share a fetch; none starts from a base older than its request
    await syncClone(github, deps.workspace, repo, { startedSince: Math.max(job.queuedAt, Date.now() - SHARED_FETCH_MS) });
    throwIfAborted(signal);
    if (!existing) branch = await unclaimedBranch(deps, job, base, branch);
    const acquire = async () => ({
      worktree: await deps.workspace.addWorktree(repo, { name: `issue-${issueNumber}`, branch, startPoint: `origin/${base}` }),
    });
    return await withWorktree(deps.workspace, acquire, async ({ worktree }) => {
      // ready ahead of its slot (a job that prepares): now it waits for one, before any command runs,
      // while the agent reads what it starts from (its first request then goes out with the slot)
      const agent = deps.createAgent(job.config);
      const preparing = agent.prepare?.(worktree.dir).catch(() => undefined);
      await slot?.acquire();
      await preparing;
      throwIfAborted(signal);
      const deadline = Date.now() + config.map.timeoutMinutes * 60_000;
      // a plan only reads, so it needs no dependencies installed
      const setupFailure = job.mode === 'plan'
        ? null
        : await runSetup({ sandbox: deps.sandbox, worktree, commands: config.map.setup, hosts: deps.settings.setupHosts, deadline, signal });
      if (setupFailure) return await finishFailed(deps, job, status, setupFailure);

      const result = await runAgent(deps, job, { agent, worktree, task, deadline, status, signal });
      slot?.release();
      if (job.mode === 'plan') return await postPlan(deps, job, status, result);
      const target = { branch, base, title: pullTitle(issueNumber, issue.title), wasFailed: issue.labels.includes(FAILED_LABEL), hasOpenPull: existing !== null };
      return publish(deps, job, status, worktree, target, result, signal);
    }, { signal, log });
  } catch (error) {
    if (signal.aborted) return await stopped(job, status, signal);
    if (error instanceof SecretInPushError) return await finishFailed(deps, job, status, error.message);
    log.error({ err: error }, 'issue run failed unexpectedly');
    return await finishFailed(deps, job, status, `agent-mapreduce hit an unexpected error: ${errorMessage(error)}`);
  }
}

function modeInstructions(job: IssueJob): string {
  if (job.mode === 'plan') {
    return '\n\n# Plan first\n\nDo not change anything yet: investigate, then finish with a plan as your summary, in ' +
      'Markdown with these parts: **Approach**, **Files to touch**, **Risks**, **Questions** for the maintainers. ' +
      'Use outcome `no-change` (or `not-actionable` if the issue cannot be done as written).';
  }
  return job.plan ? `\n\n# The plan the maintainers approved: follow it\n\n${job.plan}` : '';
}

/** A plan-first run ends with its plan in the issue's one plan comment, waiting for `/agent go`. */
async function postPlan(deps: MapDeps, job: IssueJob, status: StatusWriter, result: AgentResult): Promise<IssueJobOutcome> {
  if (result.outcome === 'failed') return finishFailed(deps, job, status, result.summary || 'The planning run failed.');
  const plan = clip(result.summary.trim() || '_The agent wrote no plan._', MAX_PLAN_CHARS);
  // the plan travels in the comment's marker, so `/agent go` reads it back without parsing the text
  await deps.comments.upsert(job.github, job.issueNumber, PLAN_KIND,
    `📝 **Plan for #${job.issueNumber}**\n\n${plan}\n\n---\nComment \`/agent go\` to implement this plan; text after \`go\` ` +
    `is added as guidance. Run: ${renderUsage(result.usage)}`, { plan });
  await status.write({ status: { state: 'planned', attempt: job.attempt } });
  return { kind: 'planned', plan };
}

/**
 * The branch for an issue without an open PR: `wanted`, unless a branch of that name holds commits
 * that are not the app's (someone started work there by hand); then the first `-2`, `-3`… that is
 * free or the app's own. Someone else's work is never overwritten.
 */
async function unclaimedBranch(deps: MapDeps, job: IssueJob, base: string, wanted: string): Promise<string> {
  const repo = { owner: job.github.owner, repo: job.github.repo };
  const { email } = await deps.botIdentity(job.github);
  for (let n = 1; ; n++) {
    const branch = n === 1 ? wanted : `${wanted}-${n}`;
    if ((await deps.workspace.remoteBranchSha(repo, branch)) === null) return branch;
    const committers = await committersSince(deps.workspace.cloneDir(repo), `refs/remotes/origin/${base}`, `refs/remotes/origin/${branch}`,
      { env: deps.gitEnv ?? {} });
    if (committers.every((committer) => committer === email)) return branch;
    job.log.info({ branch }, 'branch holds commits that are not the app’s: left alone');
  }
}

async function writersOnly<T extends { author: string; authorIsBot: boolean }>(
  permissions: PermissionCache, github: GitHub, comments: T[],
): Promise<T[]> {
  const people = [...new Set(comments.filter((c) => !c.authorIsBot).map((c) => c.author))];
  const writers = new Set<string>();
  for (const login of people) if (await permissions.isWriter(github, login)) writers.add(login);
  return comments.filter((c) => !c.authorIsBot && writers.has(c.author));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Step 5: the agent on the task, with the run's remaining time; its usage goes to the profile. */
async function runAgent(
  deps: MapDeps, job: IssueJob, run: { agent: Agent; worktree: Worktree; task: string; deadline: number; status: StatusWriter; signal: AbortSignal },
): Promise<AgentResult> {
  const ref = { repo: `${job.github.owner}/${job.github.repo}`, issue: job.issueNumber };
  const result = await run.agent.run({
    worktree: run.worktree.dir,
    cloneDir: run.worktree.cloneDir,
    task: run.task,
    budget: agentBudget(job.config, Math.max(0, run.deadline - Date.now()), await deps.spend.left(job.github, job.issueNumber, job.config)),
    signal: run.signal,
    onProgress: (progress) => run.status.progress(progress),
    onStep: (tool) => deps.profile.record({ ...ref, type: 'step', tool }),
    ...(job.mode === 'plan' ? { readOnly: true } : {}),
  });
  deps.profile.record({ ...ref, type: 'agent-used', work: 'map', usage: result.usage });
  await deps.spend.add(job.github, job.issueNumber, result.usage.costUsd);
  throwIfAborted(run.signal);
  job.log.info({ outcome: result.outcome, usage: result.usage }, 'agent finished');
  return result;
}

/** A run stopped mid-way: interrupted by a shutdown (not final: the next start's reconcile runs it again), or cancelled. */
async function stopped(job: IssueJob, status: StatusWriter, signal: AbortSignal): Promise<IssueJobOutcome> {
  if (signal.reason instanceof ShutdownError) {
    await status.write({ status: { state: 'queued', attempt: job.attempt }, interrupted: true });
    return { kind: 'cancelled', reason: signal.reason.message };
  }
  const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
  await status.write({ status: { state: 'cancelled', attempt: job.attempt, reason } });
  return { kind: 'cancelled', reason };
}
