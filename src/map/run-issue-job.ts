import { agentBudget, type Agent, type AgentProgress, type AgentResult } from '../agents/agent.js';
import type { RepoConfig } from '../config/schema.js';
import { coAuthoredBy, type BotIdentity } from '../github/bot-identity.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { Actor, GitHub, RepositoryInfo } from '../github/port.js';
import { SecretInPushError, type Workspace, type Worktree } from '../git/workspace.js';
import { withWorktree } from '../jobs/with-worktree.js';
import { changedFiles, commitAll, committersSince } from '../git/worktree-git.js';
import type { Logger } from '../log.js';
import type { Settings } from '../settings/load-settings.js';
import { type IssueStatus } from '../status/issue-status.js';
import { blockedPaths } from './blocked-paths.js';
import { buildTask } from './build-task.js';
import { pullTitle } from './pull-title.js';
import { renderPrBody } from './render-pr-body.js';
import { renderStatus, type StatusView } from './render-status.js';
import { renderUsage } from './render-usage.js';
import { runSetup } from './run-setup.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { throwIfAborted } from '../throw-if-aborted.js';
import type { ProfileRecorder } from '../profile/profile-event.js';
import { CHECK_NAME, FAILED_LABEL, PLAN_KIND, STATUS_KIND, branchName } from '../names.js';

const PROGRESS_EDIT_INTERVAL_MS = 60_000;

/** What the map pipeline needs from the process. */
export interface MapDeps {
  settings: Settings;
  workspace: Workspace;
  comments: MarkedComments;
  permissions: PermissionCache;
  createAgent(config: RepoConfig): Agent;
  profile: ProfileRecorder;
  botIdentity(github: GitHub): Promise<BotIdentity>;
  /** Where setup commands run. */
  sandbox: Sandbox;
  /** Extra environment for git commands (tests shut out the machine's git config with it). */
  gitEnv?: Record<string, string>;
}

export interface IssueJob {
  github: GitHub;
  repository: RepositoryInfo;
  issueNumber: number;
  /** Who handed the issue to the agent: credited as co-author. */
  requester: Actor;
  config: RepoConfig;
  attempt: number;
  /** Run even though a PR for the issue is open (a retry); the branch is replaced. */
  replaceOpenPull: boolean;
  /** plan: investigate read-only and post a plan; implement: change the code (following `plan`, if one was approved). */
  mode: 'plan' | 'implement';
  /** The approved plan and the guidance given with `/agent go`. */
  plan?: string;
  log: Logger;
}


/** Why a run is stopped when the app shuts down: it is interrupted, not cancelled, and resumes after. */
export class ShutdownError extends Error {
  override name = 'ShutdownError';
}

export type IssueJobOutcome =
  | { kind: 'pr-opened' | 'pr-updated'; pr: number }
  | { kind: 'planned'; plan: string }
  | { kind: 'no-change' | 'not-actionable' | 'failed' | 'cancelled' | 'skipped'; reason: string };

/**
 * One issue's run, in the order of DESIGN §2-3:
 * 1. re-read the issue; stop if it is closed or no longer labelled, or already has its PR;
 * 2. say it is running;
 * 3. cut a worktree for the issue's branch from the base branch;
 * 4. run the repository's setup commands;
 * 5. run the agent on the task;
 * 6. publish by outcome: commit, push and open (or update) the PR, or report why not;
 * 7. remove the worktree, whatever happened.
 */
export async function runIssueJob(deps: MapDeps, job: IssueJob, signal: AbortSignal): Promise<IssueJobOutcome> {
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

    await github.withGitToken('read', (token) => deps.workspace.sync(repo, token));
    throwIfAborted(signal);
    if (!existing) branch = await unclaimedBranch(deps, job, base, branch);
    const acquire = async () => ({
      worktree: await deps.workspace.addWorktree(repo, { name: `issue-${issueNumber}`, branch, startPoint: `origin/${base}` }),
    });
    return await withWorktree(deps.workspace, acquire, async ({ worktree }) => {
      const deadline = Date.now() + config.map.timeoutMinutes * 60_000;
      // a plan only reads, so it needs no dependencies installed
      const setupFailure = job.mode === 'plan'
        ? null
        : await runSetup({ sandbox: deps.sandbox, worktree, commands: config.map.setup, hosts: deps.settings.setupHosts, deadline, signal });
      if (setupFailure) return await finishFailed(deps, job, status, setupFailure);

      const agent = deps.createAgent(config);
      const result = await agent.run({
        worktree: worktree.dir,
        cloneDir: worktree.cloneDir,
        task,
        budget: agentBudget(config, Math.max(0, deadline - Date.now())),
        signal,
        onProgress: (progress) => status.progress(progress),
        onStep: (tool) => deps.profile.record({ ...ref, type: 'step', tool }),
        ...(job.mode === 'plan' ? { readOnly: true } : {}),
      });
      deps.profile.record({ ...ref, type: 'agent-used', work: 'map', usage: result.usage });
      throwIfAborted(signal);
      log.info({ outcome: result.outcome, usage: result.usage }, 'agent finished');
      if (job.mode === 'plan') return await postPlan(deps, job, status, result);
      const target = { branch, base, title: pullTitle(issueNumber, issue.title), wasFailed: issue.labels.includes(FAILED_LABEL), hasOpenPull: existing !== null };
      return publish(deps, job, status, worktree, target, result, signal);
    }, { signal, log });
  } catch (error) {
    if (signal.aborted) {
      if (signal.reason instanceof ShutdownError) {
        // not final: the next start's reconcile runs it again
        await status.write({ status: { state: 'queued', attempt: job.attempt }, interrupted: true });
        return { kind: 'cancelled', reason: signal.reason.message };
      }
      const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
      await status.write({ status: { state: 'cancelled', attempt: job.attempt, reason } });
      return { kind: 'cancelled', reason };
    }
    if (error instanceof SecretInPushError) return await finishFailed(deps, job, status, error.message);
    log.error({ err: error }, 'issue run failed unexpectedly');
    return await finishFailed(deps, job, status, `agent-mapreduce hit an unexpected error: ${errorMessage(error)}`);
  }
}

interface Target {
  branch: string;
  base: string;
  title: string;
  /** The issue carries `agent:failed` from an earlier run, to be taken off once this one succeeds. */
  wasFailed: boolean;
  /** The branch belongs to an open PR (a retry): a failed run must not overwrite it. */
  hasOpenPull: boolean;
}

async function publish(
  deps: MapDeps,
  job: IssueJob,
  status: StatusWriter,
  worktree: Worktree,
  target: Target,
  result: AgentResult,
  signal: AbortSignal,
): Promise<IssueJobOutcome> {
  const { github, issueNumber, config } = job;
  const files = await changedFiles(worktree.dir, { env: deps.gitEnv ?? {} });

  if (result.outcome === 'no-change' || result.outcome === 'not-actionable') {
    const reason = result.summary.trim() || (result.outcome === 'no-change' ? 'Nothing needed to change.' : 'The agent gave no reason.');
    await status.write({ status: { state: result.outcome, attempt: job.attempt, reason: clip(reason) } });
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

  const body = renderPrBody({
    issueNumber, summary: result.summary, files, usage: result.usage, requester: job.requester.login, attempt: job.attempt,
  });
  const title = target.title;
  let pull = await github.createPull({ title, body, head: target.branch, base: target.base });
  let kind: 'pr-opened' | 'pr-updated' = 'pr-opened';
  if (pull === 'exists') {
    const open = await github.findOpenAgentPull(issueNumber);
    if (!open) throw new Error(`GitHub says a PR from ${target.branch} exists, but none is open`);
    await github.updatePull(open.number, { title, body });
    pull = open;
    kind = 'pr-updated';
  }
  // the PR is open: what follows is reporting, and its failure must not mark the run failed
  deps.profile.record({
    repo: `${github.owner}/${github.repo}`, issue: issueNumber, type: 'pull', pr: pull.number, url: pull.url, base: target.base, opened: kind === 'pr-opened',
  });
  await github.createCheckRun({
    name: CHECK_NAME,
    headSha: pushed,
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
  return { kind, pr: pull.number };
}

/** What a plan-first run is asked for, or the plan an implementation run follows. */
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
  const plan = result.summary.trim() || '_The agent wrote no plan._';
  await deps.comments.upsert(job.github, job.issueNumber, PLAN_KIND,
    `📝 **Plan for #${job.issueNumber}**\n\n${plan}\n\n---\nComment \`/agent go\` to implement this plan; text after \`go\` ` +
    `is added as guidance. Run: ${renderUsage(result.usage)}`);
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

async function finishFailed(deps: MapDeps, job: IssueJob, status: StatusWriter, reason: string, branch?: string): Promise<IssueJobOutcome> {
  await job.github.addLabels(job.issueNumber, [FAILED_LABEL]);
  await status.write({ status: { state: 'failed', attempt: job.attempt, reason: clip(reason), ...(branch ? { branch } : {}) } });
  return { kind: 'failed', reason };
}

async function writersOnly<T extends { author: string; authorIsBot: boolean }>(
  permissions: PermissionCache, github: GitHub, comments: T[],
): Promise<T[]> {
  const people = [...new Set(comments.filter((c) => !c.authorIsBot).map((c) => c.author))];
  const writers = new Set<string>();
  for (const login of people) if (await permissions.isWriter(github, login)) writers.add(login);
  return comments.filter((c) => !c.authorIsBot && writers.has(c.author));
}

interface StatusWriter {
  write(view: StatusView): Promise<void>;
  progress(progress: AgentProgress): void;
}

/** The issue's status comment; progress edits are spaced out, since every edit is a scarce write. */
function statusWriter(deps: MapDeps, job: IssueJob): StatusWriter {
  let current: IssueStatus | undefined;
  let lastProgressEdit = Date.now();
  const write = (view: StatusView) => {
    current = view.status;
    return deps.comments.upsert(job.github, job.issueNumber, STATUS_KIND, renderStatus(view), view.status);
  };
  return {
    write,
    progress(progress) {
      if (current?.state !== 'running' || Date.now() - lastProgressEdit < PROGRESS_EDIT_INTERVAL_MS) return;
      lastProgressEdit = Date.now();
      write({ status: current, progress }).catch((err: unknown) => job.log.warn({ err }, 'progress edit failed'));
    },
  };
}


/** The check run's Details link: the issue's run record on the dashboard, when it has a public address. */
export function runPageUrl(settings: Settings, github: GitHub, issueNumber: number): { detailsUrl?: string } {
  const base = settings.dashboard?.publicUrl;
  return base ? { detailsUrl: `${base}/runs/${github.owner}/${github.repo}/${issueNumber}` } : {};
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function clip(text: string, max = 1500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
