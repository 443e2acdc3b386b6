import type { RepoConfig } from '../config/schema.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { GitHub, PullInfo, RepositoryInfo } from '../github/port.js';
import { runGit } from '../git/run-git.js';
import type { Workspace } from '../git/workspace.js';
import { withWorktree } from '../jobs/with-worktree.js';
import type { BotIdentity } from '../github/bot-identity.js';
import type { Logger } from '../log.js';
import { abortRebase, startRebase } from '../git/rebase.js';
import { buildConflictGraph, type Conflict, type MergeCache } from './conflict-graph.js';
import { decideEligibility, type PullSnapshot } from './decide-eligibility.js';
import { orderCandidates } from './order-candidates.js';
import { patchIdAgainstBase } from './patch-id.js';
import type { ProfileRecorder, ReviewState } from '../profile/profile-event.js';
import { CONFLICT_KIND, CONFLICT_LABEL, HOLD_LABEL, ORDER_CHECK, issueOfBranch } from '../names.js';


export interface ReduceDeps {
  workspace: Workspace;
  comments: MarkedComments;
  permissions: PermissionCache;
  botIdentity(github: GitHub): Promise<BotIdentity>;
  gitEnv?: Record<string, string>;
  mergeCache: MergeCache;
  /** The merge-order check run last written per PR head, so an unchanged place costs no write. */
  shownOrder?: Map<string, string>;
  profile: ProfileRecorder;
  /** With `reduce.autoResolve`: start the agent's rebase of a PR that conflicts, instead of only flagging it. */
  resolveConflict?: (pass: ReducePass, pullNumber: number, issueNumber: number) => void;
}

export interface ReducePass {
  github: GitHub;
  repository: RepositoryInfo;
  baseRef: string;
  config: RepoConfig;
  log: Logger;
}

export interface ReduceReport {
  order: number[];
  merged: number[];
  flagged: number[];
  waiting: Array<{ number: number; reason: string }>;
}

/**
 * One reduce pass over a base branch (DESIGN §5), level-triggered: it re-reads everything.
 * 1. candidates: open agent PRs from this repository into the base;
 * 2. eligible: approved by writers for the code now on the branch, checks green where required;
 * 3. the conflict graph of the eligible ones, and their order;
 * 4. down the order: rebase onto the base if behind (approval kept only if the patch-id is), wait
 *    for checks where required, merge with the head-SHA guard, delete the branch, next;
 * 5. flag the PRs that really conflict (label + one comment), and clear the flag of those that no
 *    longer do.
 */
export async function runReducePass(deps: ReduceDeps, pass: ReducePass): Promise<ReduceReport> {
  const { github, baseRef, config, log } = pass;
  const report: ReduceReport = { order: [], merged: [], flagged: [], waiting: [] };
  const repo = { owner: github.owner, repo: github.repo, cloneUrl: pass.repository.cloneUrl };
  const env = deps.gitEnv ?? {};
  const clone = deps.workspace.cloneDir(repo);
  await github.withGitToken('read', (token) => deps.workspace.sync(repo, token));
  let baseSha = await deps.workspace.remoteBranchSha(repo, baseRef);
  if (!baseSha) return report;

  const pulls = (await github.listOpenPulls()).filter((p) => issueOfBranch(p.headRef) !== undefined && !p.fromFork && p.baseRef === baseRef);
  const eligible: Array<{ pull: PullInfo; approvedAt: number }> = [];
  const { profile } = deps;
  const ref = (pull: PullInfo) => ({ repo: `${github.owner}/${github.repo}`, issue: issueOfBranch(pull.headRef)! });
  for (const pull of pulls) {
    const pullSnapshot = await snapshot(deps, github, pull, clone, baseSha, config, env);
    profile.record({ ...ref(pull), type: 'pull', pr: pull.number, url: pull.url, base: pull.baseRef, ...(pull.createdAt ? { openedAt: pull.createdAt } : {}) });
    for (const review of pullSnapshot.reviews) {
      profile.record({ ...ref(pull), type: 'review', pr: pull.number, id: review.id, author: review.author, state: review.state.toLowerCase() as ReviewState, at: review.submittedAt });
    }
    const decision = decideEligibility(pullSnapshot, {
      baseRef, approvals: config.reduce.approvals, requireChecks: config.reduce.requireChecks, holdLabel: HOLD_LABEL,
    });
    if (decision.eligible) eligible.push({ pull, approvedAt: decision.approvedAt });
    else if (decision.kind !== 'not-candidate') report.waiting.push({ number: pull.number, reason: decision.reason });
  }

  const graph = await buildConflictGraph({
    cloneDir: clone, baseSha, env, cache: deps.mergeCache,
    candidates: eligible.map(({ pull }) => ({ number: pull.number, headSha: pull.headSha })),
  });
  const order = orderCandidates(eligible.map(({ pull, approvedAt }) => ({
    number: pull.number, approvedAt, priority: pull.labels.some((l) => config.reduce.priorityLabels.includes(l)),
  })), graph.pairs);
  report.order = order.map((p) => p.number);
  const byNumber = new Map(eligible.map(({ pull }) => [pull.number, pull]));
  const flagged = new Map<number, { conflict: Conflict; with: string }>();

  for (const placed of order) {
    const pull = byNumber.get(placed.number)!;
    const baseConflict = graph.withBase.get(pull.number);
    if (baseConflict) {
      flagged.set(pull.number, { conflict: baseConflict, with: `the base branch \`${baseRef}\`` });
      continue;
    }
    const blockers = placed.waitsFor.filter((n) => !report.merged.includes(n));
    if (blockers.length > 0) {
      report.waiting.push({ number: pull.number, reason: `waits for ${blockers.map((n) => `#${n}`).join(', ')} to merge` });
      continue;
    }

    let head = pull.headSha;
    const behind = (await runGit(['merge-base', head, baseSha], { cwd: clone, env })).trim() !== baseSha;
    if (behind) {
      const rebased = await rebaseOnto(deps, github, repo, pull, baseRef, env, log);
      if (rebased.kind === 'conflict') {
        const partner = placed.waitsFor.find((n) => report.merged.includes(n));
        flagged.set(pull.number, { conflict: rebased.conflict, with: partner ? `#${partner}` : `the base branch \`${baseRef}\`` });
        continue;
      }
      if (rebased.kind === 'rejected') {
        report.waiting.push({ number: pull.number, reason: 'its branch moved during the rebase' });
        continue;
      }
      const [before, after] = await Promise.all([
        patchIdAgainstBase(clone, head, baseSha, env), patchIdAgainstBase(clone, rebased.sha, baseSha, env),
      ]);
      head = rebased.sha;
      if (before !== after) {
        report.waiting.push({ number: pull.number, reason: 'the rebase changed its diff, so it needs a fresh approval' });
        continue;
      }
      if (config.reduce.requireChecks) {
        report.waiting.push({ number: pull.number, reason: 'rebased; waiting for the checks on the new head' });
        break; // the check events start the next pass
      }
    }

    const merged = await github.mergePull(pull.number, { sha: head, method: config.reduce.mergeMethod });
    if (merged.kind !== 'merged') {
      log.info({ pr: pull.number, merged }, 'merge refused; the next pass re-reads');
      report.waiting.push({ number: pull.number, reason: merged.message });
      break;
    }
    report.merged.push(pull.number);
    profile.record({ ...ref(pull), type: 'merged', pr: pull.number });
    log.info({ pr: pull.number, sha: merged.sha }, 'merged');
    if (config.reduce.deleteBranch) await github.deleteBranch(pull.headRef).catch((err: unknown) => log.warn({ err }, 'branch not deleted'));
    await github.withGitToken('read', (token) => deps.workspace.sync(repo, token));
    baseSha = (await deps.workspace.remoteBranchSha(repo, baseRef)) ?? baseSha;
  }

  for (const [number, { conflict, with: other }] of flagged) {
    const pull = byNumber.get(number)!;
    const fresh = !pull.labels.includes(CONFLICT_LABEL);
    profile.record({ ...ref(pull), type: 'conflict', pr: number, files: conflict.files, with: other.replaceAll('`', ''), fresh });
    if (fresh) await github.addLabels(number, [CONFLICT_LABEL]);
    await deps.comments.upsert(github, number, CONFLICT_KIND, renderConflict(conflict, other, config.reduce.autoResolve), { conflict: true });
    report.flagged.push(number);
    if (config.reduce.autoResolve) deps.resolveConflict?.(pass, number, issueOfBranch(pull.headRef)!);
  }
  for (const { pull } of eligible) {
    if (flagged.has(pull.number) || !pull.labels.includes(CONFLICT_LABEL)) continue;
    await github.removeLabel(pull.number, CONFLICT_LABEL);
    profile.record({ ...ref(pull), type: 'conflict-cleared', pr: pull.number });
    await deps.comments.upsert(github, pull.number, CONFLICT_KIND, '✅ **No longer conflicts**: it is back in the merge order.', { conflict: false });
  }
  await showOrder(deps, github, pulls, report, flagged);
  return report;
}

/** The `agent-mapreduce/merge-order` check run on each candidate's head: its place, or what it waits for. */
async function showOrder(
  deps: ReduceDeps, github: GitHub, pulls: PullInfo[], report: ReduceReport, flagged: Map<number, { with: string }>,
): Promise<void> {
  const queue = report.order.filter((n) => !report.merged.includes(n) && !flagged.has(n));
  for (const pull of pulls) {
    if (report.merged.includes(pull.number)) continue;
    const waiting = report.waiting.find((w) => w.number === pull.number);
    const conflict = flagged.get(pull.number);
    const place = queue.indexOf(pull.number) + 1;
    const title = conflict ? `Left out: conflicts with ${conflict.with.replaceAll('`', '')}`
      : waiting ? `Waiting: ${waiting.reason}`
        : place > 0 ? `Place ${place} of ${queue.length} in the merge order` : null;
    if (!title) continue;
    const key = `${github.owner}/${github.repo}#${pull.number}@${pull.headSha}`;
    if (deps.shownOrder?.get(key) === title) continue;
    await github.createCheckRun({
      name: ORDER_CHECK, headSha: pull.headSha, status: 'completed', conclusion: 'neutral', title,
      summary: `Merge order of \`${pull.baseRef}\`: ${queue.map((n) => `#${n}`).join(' → ') || '(empty)'}`,
    }).then(() => deps.shownOrder?.set(key, title), () => undefined);
  }
}

function renderConflict(conflict: Conflict, other: string, autoResolve: boolean): string {
  return [
    `⚠️ **Conflicts with ${other}**, so it is left out of the merge order until fixed.`,
    '',
    'Files:',
    ...conflict.files.map((f) => `- \`${f}\``),
    ...(conflict.messages.length > 0 ? ['', 'What git says:', '', ...conflict.messages.map((m) => `- ${m}`)] : []),
    '',
    autoResolve
      ? 'The agent is rebasing it and resolving the conflict now (`reduce.autoResolve`); it then needs review again.'
      : 'Comment `/agent rebase` to have the agent resolve it, or push a fix; the flag clears itself once it merges cleanly.',
  ].join('\n');
}

async function snapshot(
  deps: ReduceDeps, github: GitHub, pull: PullInfo, clone: string, baseSha: string, config: RepoConfig, env: Record<string, string>,
): Promise<PullSnapshot> {
  const reviews = await github.listReviews(pull.number);
  const writers = new Map<string, boolean>();
  for (const author of new Set(reviews.map((r) => r.author))) writers.set(author, await deps.permissions.isWriter(github, author));
  const patchIds: Record<string, string> = {};
  for (const sha of new Set([pull.headSha, ...reviews.filter((r) => r.state === 'APPROVED').map((r) => r.commitId)])) {
    // an approved commit the clone never saw cannot be compared: that approval does not cover the head
    const id = await patchIdAgainstBase(clone, sha, baseSha, env).catch(() => null);
    if (id) patchIds[sha] = id;
  }
  return {
    number: pull.number,
    open: true,
    draft: pull.draft,
    fromFork: pull.fromFork,
    baseRef: pull.baseRef,
    agentBranch: issueOfBranch(pull.headRef) !== undefined,
    headSha: pull.headSha,
    labels: pull.labels,
    reviews: reviews.map((r) => ({ ...r, authorIsWriter: writers.get(r.author) ?? false })),
    patchIds,
    checks: config.reduce.requireChecks ? await github.getChecksState(pull.headSha) : 'none',
  };
}

type Rebased = { kind: 'rebased'; sha: string } | { kind: 'conflict'; conflict: Conflict } | { kind: 'rejected' };

/** Rebases the PR's branch onto the base in a worktree and pushes it with a lease on the old head. */
async function rebaseOnto(
  deps: ReduceDeps, github: GitHub, repo: { owner: string; repo: string; cloneUrl: string }, pull: PullInfo, baseRef: string,
  env: Record<string, string>, log: Logger,
): Promise<Rebased> {
  const identity = await deps.botIdentity(github);
  const rebaseOptions = { env: { ...env, GIT_COMMITTER_NAME: identity.name, GIT_COMMITTER_EMAIL: identity.email } };
  const acquire = async () => ({
    worktree: await deps.workspace.addWorktree(repo, { name: `reduce-${pull.number}`, branch: pull.headRef, startPoint: pull.headSha }),
  });
  return withWorktree(deps.workspace, acquire, async ({ worktree }): Promise<Rebased> => {
    const step = await startRebase(worktree.dir, `origin/${baseRef}`, rebaseOptions);
    if (step.kind !== 'done') {
      await abortRebase(worktree.dir, rebaseOptions);
      return { kind: 'conflict', conflict: step.kind === 'conflict' ? { files: step.files, messages: step.messages } : { files: [], messages: [step.reason] } };
    }
    const pushed = await github.withGitToken('write', (token) => deps.workspace.push(worktree, { token, lease: { expectedSha: pull.headSha } }));
    if (pushed.kind === 'rejected') return { kind: 'rejected' };
    return { kind: 'rebased', sha: pushed.sha };
  }, { log });
}
