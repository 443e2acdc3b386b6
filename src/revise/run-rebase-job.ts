import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { agentBudget, type AgentResult } from '../agents/agent.js';
import { abortRebase, continueRebase, startRebase } from '../git/rebase.js';
import { runGit } from '../git/run-git.js';
import { withWorktree } from '../jobs/with-worktree.js';
import type { GitHub, PullInfo, RepositoryInfo } from '../github/port.js';
import type { Worktree } from '../git/worktree.js';
import type { Logger } from '../log.js';
import type { RepoConfig } from '../config/schema.js';
import { buildTask } from '../pipeline/build-task.js';
import { renderUsage } from '../pipeline/render-usage.js';
import { checkoutPullHead } from './checkout-pull-head.js';
import { runSetup } from '../pipeline/run-setup.js';
import type { JobDeps } from '../pipeline/job-deps.js';
import { capitalise } from '../text.js';

export interface RebaseJob {
  github: GitHub;
  repository: RepositoryInfo;
  pullNumber: number;
  issueNumber: number;
  config: RepoConfig;
  /** Who asked (`/agent rebase`), to address the reply to; none when the reduce pass started it (`reduce.autoResolve`). */
  requester?: string;
  log: Logger;
}

export type RebaseOutcome =
  | { kind: 'rebased' | 'resolved'; sha: string }
  | { kind: 'up-to-date' | 'failed' | 'skipped' | 'cancelled'; reason: string };

/** A rebase that stops this many times for conflicts is given up: the PR needs a person. */
const MAX_CONFLICT_STOPS = 5;
const markerLine = /^(<{7}|={7}|>{7})( |$)/m;

/**
 * `/agent rebase` on an agent PR (DESIGN §4):
 * 1. cut a worktree at the PR's head; stop if it is already based on the base's tip;
 * 2. rebase it onto the base branch; at each conflict, run the agent in the conflicted worktree with
 *    the conflicting files and both sides' intent (the PR's issue, the base commits' messages); it
 *    must leave no conflict markers;
 * 3. push with a lease on the head it started from: a concurrent push makes it stop and say so;
 * 4. reply: rebased cleanly, or resolved by the agent and needing review again.
 */
export async function runRebaseJob(deps: JobDeps, job: RebaseJob, signal: AbortSignal): Promise<RebaseOutcome> {
  const { github, pullNumber, log } = job;
  const reply = (text: string) => github.createComment(pullNumber, job.requester ? `@${job.requester} ${text}` : capitalise(text));
  const pull = await github.getPull(pullNumber);
  if (!pull.open) return { kind: 'skipped', reason: 'the PR is closed' };
  const identity = await deps.botIdentity(github);
  const env = { ...deps.gitEnv, GIT_COMMITTER_NAME: identity.name, GIT_COMMITTER_EMAIL: identity.email };
  try {
    return await withWorktree(deps.workspace, () => checkoutPullHead(deps.workspace, github, job.repository, pull), async ({ worktree, startSha }) => {
      const base = `origin/${pull.baseRef}`;
      const git = (args: string[]) => runGit(args, { cwd: worktree.dir, env, signal });
      const mergeBase = (await git(['merge-base', 'HEAD', base])).trim();
      if (mergeBase === (await git(['rev-parse', base])).trim()) {
        await reply(`this PR is already up to date with \`${pull.baseRef}\`.`);
        return { kind: 'up-to-date', reason: 'already based on the base tip' };
      }
      const baseIntent = (await git(['log', '--format=- %h %s', `${mergeBase}..${base}`])).trim();
      const rebased = await rebaseResolving(deps, job, pull, worktree, { base, baseIntent, env, signal });
      if (rebased.kind === 'failed') {
        await reply(rebased.text);
        return { kind: 'failed', reason: rebased.why };
      }
      const pushed = await github.withGitToken('write', (token) => deps.workspace.push(worktree, { token, lease: { expectedSha: startSha } }));
      if (pushed.kind === 'rejected') {
        await reply(`the rebased branch was not pushed: \`${pull.headRef}\` moved while the rebase ran (${pushed.reason}). Comment \`/agent rebase\` again.`);
        return { kind: 'failed', reason: `push rejected: ${pushed.reason}` };
      }
      if (rebased.usages.length === 0) {
        await reply(`rebased onto \`${pull.baseRef}\` without conflicts: the head is now ${pushed.sha.slice(0, 7)}.`);
        return { kind: 'rebased', sha: pushed.sha };
      }
      await reply(`rebased onto \`${pull.baseRef}\`; the agent resolved conflicts, so **this PR needs review again**: ` +
        `the head is now ${pushed.sha.slice(0, 7)}.\n\nRuns: ${rebased.usages.join('; ')}`);
      return { kind: 'resolved', sha: pushed.sha };
    }, { signal, log });
  } catch (error) {
    if (signal.aborted) return { kind: 'cancelled', reason: 'cancelled' };
    log.error({ err: error }, 'rebase failed unexpectedly');
    await reply(`the rebase failed: ${error instanceof Error ? error.message : String(error)}`).catch(() => {});
    return { kind: 'failed', reason: String(error) };
  }
}

/** A finished rebase, with the usage of each agent run that resolved a conflict; or why it was given up (and aborted). */
type Resolution = { kind: 'done'; usages: string[] } | { kind: 'failed'; why: string; text: string };

interface RebaseAt {
  base: string;
  baseIntent: string;
  env: Record<string, string>;
  signal: AbortSignal;
}

/** Step 2: the rebase, the agent resolving each conflict it stops on, until done or given up. */
async function rebaseResolving(deps: JobDeps, job: RebaseJob, pull: PullInfo, worktree: Worktree, at: RebaseAt): Promise<Resolution> {
  const { config } = job;
  const options = { env: at.env, signal: at.signal };
  const giveUp = async (why: string, text: string): Promise<Resolution> => {
    await abortRebase(worktree.dir, options);
    return { kind: 'failed', why, text };
  };
  let rebase = await startRebase(worktree.dir, at.base, options);
  const usages: string[] = [];
  while (rebase.kind !== 'done') {
    if (rebase.kind === 'stopped' || usages.length >= MAX_CONFLICT_STOPS) {
      const why = rebase.kind === 'stopped' ? rebase.reason : `it stopped on conflicts more than ${MAX_CONFLICT_STOPS} times`;
      return giveUp(why, `the rebase onto \`${pull.baseRef}\` stopped and the agent could not finish it: ${why}`);
    }
    const conflicted = rebase.files;
    const overBudget = await deps.spend.refusal(job.github, job.issueNumber, config);
    if (overBudget) return giveUp('the issue’s budget is spent', `the rebase onto \`${pull.baseRef}\` stopped on conflicts, and the agent may not resolve them: ${overBudget}`);
    if (usages.length === 0) {
      const setupFailure = await runSetup({
        sandbox: deps.sandbox, worktree, commands: config.map.setup, hosts: deps.settings.setupHosts,
        deadline: Date.now() + config.map.timeoutMinutes * 60_000, signal: at.signal,
      });
      if (setupFailure) job.log.warn({ setupFailure }, 'setup failed before conflict resolution');
    }
    const result = await resolveConflict(deps, job, pull, worktree, conflicted, at);
    usages.push(renderUsage(result.usage));
    const stillMarked = await filesWithMarkers(worktree.dir, conflicted);
    if (result.outcome === 'failed' || stillMarked.length > 0) {
      const why = stillMarked.length > 0 ? `conflict markers are left in ${stillMarked.map((f) => `\`${f}\``).join(', ')}` : result.summary;
      return giveUp(why,
        `the agent could not resolve the conflicts with \`${pull.baseRef}\` (${conflicted.map((f) => `\`${f}\``).join(', ')}): ${why}. Nothing was pushed.`);
    }
    rebase = await continueRebase(worktree.dir, options);
  }
  return { kind: 'done', usages };
}

/** One agent run in the conflicted worktree. */
async function resolveConflict(deps: JobDeps, job: RebaseJob, pull: PullInfo, worktree: Worktree, files: string[], at: RebaseAt): Promise<AgentResult> {
  const { github, config } = job;
  const ref = { repo: `${github.owner}/${github.repo}`, issue: job.issueNumber };
  const result = await deps.createAgent(config).run({
    worktree: worktree.dir,
    cloneDir: worktree.cloneDir,
    task: conflictTask(github, await github.getIssue(job.issueNumber), pull.baseRef, files, at.baseIntent),
    budget: agentBudget(config, config.map.timeoutMinutes * 60_000, await deps.spend.left(github, job.issueNumber, config)),
    signal: at.signal,
    onStep: (tool) => deps.profile.record({ ...ref, type: 'step', tool }),
  });
  deps.profile.record({ ...ref, type: 'agent-used', work: 'rebase', usage: result.usage });
  await deps.spend.add(github, job.issueNumber, result.usage.costUsd);
  return result;
}

function conflictTask(github: GitHub, issue: Parameters<typeof buildTask>[1], baseRef: string, files: string[], baseIntent: string): string {
  return [
    buildTask(`${github.owner}/${github.repo}`, issue, []),
    '',
    `# Now: resolve a rebase conflict with ${baseRef}`,
    '',
    `This branch resolves the issue above. It is being rebased onto \`${baseRef}\`, which changed meanwhile:`,
    '',
    baseIntent || '(no commit messages)',
    '',
    'These files have conflicts (with <<<<<<< / ======= / >>>>>>> markers):',
    ...files.map((f) => `- \`${f}\``),
    '',
    `Edit them so that both intents hold: keep what ${baseRef} changed and what this branch adds. Leave no conflict`,
    'markers. Do not commit (the app continues the rebase). Finish with `changed` and a summary of how you resolved each file.',
  ].join('\n');
}

async function filesWithMarkers(dir: string, files: string[]): Promise<string[]> {
  const marked: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8').catch(() => '');
    if (markerLine.test(text)) marked.push(file);
  }
  return marked;
}

