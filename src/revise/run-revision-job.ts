import { agentBudget } from '../agents/agent.js';
import type { RepoConfig } from '../config/schema.js';
import { coAuthoredBy } from '../github/bot-identity.js';
import type { GitHub, RepositoryInfo } from '../github/port.js';
import { withWorktree } from '../jobs/with-worktree.js';
import { changedFiles, commitAll, diffAgainst } from '../git/worktree-git.js';
import type { Logger } from '../log.js';
import { blockedPaths } from '../pipeline/blocked-paths.js';
import { buildTask } from '../pipeline/build-task.js';
import { renderUsage } from '../pipeline/render-usage.js';
import { checkoutPullHead } from './checkout-pull-head.js';
import { renderStatus } from '../status/render-status.js';
import { runSetup } from '../pipeline/run-setup.js';
import { readIssueStatus, type IssueStatus } from '../status/issue-status.js';
import { renderFeedback, type Feedback } from './feedback.js';
import { CHECK_NAME, STATUS_KIND } from '../names.js';
import { runPageUrl } from '../pipeline/run-page-url.js';
import type { JobDeps } from '../pipeline/job-deps.js';

/** What a revision needs from the process: the same parts as the map pipeline. */
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
 * 1. re-read the PR; stop if it is closed;
 * 2. cut a worktree at the PR's head;
 * 3. run the agent with the original task, the PR's current diff and the feedback;
 * 4. commit on top and push with a lease on the head it started from (never a force-push);
 * 5. reply once on the PR: what changed, in which commit, at what cost; and a check run on the new head.
 */
export async function runRevisionJob(deps: RevisionDeps, job: RevisionJob, signal: AbortSignal): Promise<RevisionOutcome> {
  const { github, pullNumber, config, log } = job;
  const reply = (text: string) => github.createComment(pullNumber, text);
  const who = [...new Set(job.feedback.map((f) => `@${f.author}`))].join(', ');
  const ref = { repo: `${github.owner}/${github.repo}`, issue: job.issueNumber };

  const pull = await github.getPull(pullNumber);
  if (!pull.open) return { kind: 'skipped', reason: 'the PR is closed' };
  const issue = await github.getIssue(job.issueNumber);
  // the issue's status comment follows along: revising, then back to the open PR, one round more
  const previous = (await readIssueStatus(github, deps.comments, job.issueNumber))?.status;
  const round = (previous?.revision ?? 0) + 1;
  const setStatus = (state: 'running' | 'pr-open') => {
    const status: IssueStatus = { ...previous, state, pr: pullNumber, revision: round, branch: pull.headRef };
    delete status.reason;
    return deps.comments.upsert(github, job.issueNumber, STATUS_KIND, renderStatus({ status, prUrl: pull.url }), status)
      .catch((err: unknown) => log.warn({ err }, 'status not written'));
  };
  await setStatus('running');

  try {
    return await withWorktree(deps.workspace, () => checkoutPullHead(deps.workspace, github, job.repository, pull), async ({ worktree, startSha }) => {
      const gitOptions = { env: deps.gitEnv ?? {} };
      const diff = await diffAgainst(worktree.dir, `origin/${pull.baseRef}`, gitOptions);
      const task = [
        buildTask(`${github.owner}/${github.repo}`, issue, []),
        '',
        `# Your PR #${pullNumber} so far: its diff against ${pull.baseRef}`,
        '',
        '```diff',
        diff.length > MAX_DIFF ? `${diff.slice(0, MAX_DIFF)}\n[… diff cut]` : diff,
        '```',
      ].join('\n');

      const deadline = Date.now() + config.map.timeoutMinutes * 60_000;
      const setupFailure = await runSetup({ sandbox: deps.sandbox, worktree, commands: config.map.setup, hosts: deps.settings.setupHosts, deadline, signal });
      if (setupFailure) {
        await reply(`${who} the revision did not run: ${setupFailure}`);
        return { kind: 'failed', reason: setupFailure };
      }
      const result = await deps.createAgent(config).run({
        worktree: worktree.dir,
        cloneDir: worktree.cloneDir,
        task,
        feedback: `Revise the PR to address this feedback from its reviewers, then finish with a summary of what you changed for each point.\n\n${renderFeedback(job.feedback)}`,
        budget: agentBudget(config, Math.max(0, deadline - Date.now())),
        signal,
        onStep: (tool) => deps.profile.record({ ...ref, type: 'step', tool }),
      });
      deps.profile.record({ ...ref, type: 'agent-used', work: 'revision', usage: result.usage });
      if (signal.aborted) throw signal.reason;
      const usage = renderUsage(result.usage);
      const files = await changedFiles(worktree.dir, gitOptions);

      if (result.outcome !== 'changed' || files.length === 0) {
        const reason = result.summary.trim() || 'The agent made no change.';
        await reply(`${who} the agent looked at your feedback and pushed no change${result.outcome === 'failed' ? ' (the run failed)' : ''}:\n\n> ${reason.replaceAll('\n', '\n> ')}\n\nRun: ${usage}`);
        return { kind: result.outcome === 'failed' ? 'failed' : 'no-change', reason };
      }

      const blocked = blockedPaths(files, config.map.blockedPaths);
      if (blocked.length > 0) {
        await reply(`${who} the revision was not pushed: the agent changed files it may not change (map.blockedPaths): ` +
          `${blocked.map((f) => `\`${f}\``).join(', ')}.`);
        return { kind: 'failed', reason: 'blocked paths' };
      }
      const identity = await deps.botIdentity(github);
      const reviewers = new Map(job.feedback.map((f) => [f.author, { login: f.author, id: f.authorId }]));
      const trailers = [...reviewers.values()].map((actor) => coAuthoredBy(actor, deps.settings.noreplyDomain));
      const message = `Address review feedback on #${pullNumber}\n\n${trailers.join('\n')}\n`;
      const sha = await commitAll(worktree.dir, { message, author: identity }, gitOptions);
      if (!sha) throw new Error('nothing to commit after the agent changed files');
      const pushed = await github.withGitToken('write', (token) => deps.workspace.push(worktree, { token, lease: { expectedSha: startSha } }));
      if (pushed.kind === 'rejected') {
        await reply(`${who} the revision was not pushed: \`${pull.headRef}\` moved while the agent worked (${pushed.reason}). Comment \`/agent revise\` again to revise the new head.`);
        return { kind: 'failed', reason: `push rejected: ${pushed.reason}` };
      }
      await github.createCheckRun({
        name: CHECK_NAME,
        headSha: pushed.sha,
        status: 'completed',
        conclusion: 'success',
        title: `Revision: ${files.length} file${files.length === 1 ? '' : 's'} changed`,
        summary: `${usage}\n\n${result.summary}`.slice(0, 60_000),
        ...runPageUrl(deps.settings, github, job.issueNumber),
      });
      deps.profile.record({ ...ref, type: 'revised', pr: pullNumber, sha: pushed.sha });
      await reply(`${who} revised in ${pushed.sha.slice(0, 7)}:\n\n${result.summary.trim()}\n\nFiles: ${files.map((f) => `\`${f}\``).join(', ')}\n\nRun: ${usage}`);
      log.info({ sha: pushed.sha }, 'revision pushed');
      return { kind: 'revised', sha: pushed.sha };
    }, { signal, log });
  } catch (error) {
    if (signal.aborted) return { kind: 'cancelled', reason: 'cancelled' };
    log.error({ err: error }, 'revision failed unexpectedly');
    await reply(`${who} the revision failed: ${error instanceof Error ? error.message : String(error)}`).catch(() => {});
    return { kind: 'failed', reason: String(error) };
  } finally {
    await setStatus('pr-open');
  }
}
