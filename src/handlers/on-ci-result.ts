import type { Context } from 'probot';
import type { ConfigCache } from '../config/config-cache.js';
import { KeyedMutex } from '../git/keyed-mutex.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { RequestCounting } from '../github/octokit-github.js';
import { CHECK_NAME, issueOfBranch } from '../names.js';
import type { ProfileRecorder } from '../profile/profile-event.js';
import { reviewCiResult } from '../revise/review-ci-result.js';
import type { RevisionService } from '../revise/revision-service.js';
import { gitHubOf, repositoryFromPayload } from './from-payload.js';

/** An agent PR opened: its head's CI may have finished before the PR existed (the push comes first). */
type CiEvent = 'check_run.completed' | 'check_suite.completed' | 'status' | 'pull_request.opened' | 'pull_request.reopened';

interface CiPayload {
  check_run?: { name: string; head_sha: string; check_suite?: { head_branch?: string | null } | null; pull_requests?: Array<{ head: { ref: string } }> };
  check_suite?: { head_sha: string; head_branch?: string | null; pull_requests?: Array<{ head: { ref: string } }> };
  pull_request?: { head: { sha: string; ref: string } };
  sha?: string;
  context?: string;
  branches?: Array<{ name: string }>;
}

/** The commit an event is about, the branches the event says it is the tip of (if it says), and the check's name. */
function ciEventOf(payload: CiPayload): { sha: string; branches: string[]; check?: string } | undefined {
  const { check_run: run, check_suite: suite } = payload;
  if (run) {
    const branches = [run.check_suite?.head_branch, ...(run.pull_requests ?? []).map((p) => p.head.ref)];
    return { sha: run.head_sha, branches: branches.filter((b): b is string => typeof b === 'string'), check: run.name };
  }
  if (suite) {
    const branches = [suite.head_branch, ...(suite.pull_requests ?? []).map((p) => p.head.ref)];
    return { sha: suite.head_sha, branches: branches.filter((b): b is string => typeof b === 'string') };
  }
  if (payload.pull_request) return { sha: payload.pull_request.head.sha, branches: [payload.pull_request.head.ref] };
  if (payload.sha === undefined) return undefined;
  return { sha: payload.sha, branches: (payload.branches ?? []).map((b) => b.name), ...(payload.context ? { check: payload.context } : {}) };
}

export interface CiResultServices extends RequestCounting {
  configs: ConfigCache;
  comments: MarkedComments;
  revisions: RevisionService;
  profile: RequestCounting['profile'] & ProfileRecorder;
}

/**
 * A check finished or a commit status changed: if the commit is an agent PR's head, look at where its
 * required checks stand, and send the agent back on red ones (`revise/review-ci-result.ts`).
 */
export function onCiResult(services: CiResultServices) {
  const serial = new KeyedMutex();
  return async (context: Context<CiEvent>): Promise<void> => {
    const event = ciEventOf(context.payload as CiPayload);
    if (!event) return;
    // this app's own check runs say nothing about the agent's code
    if (event.check?.startsWith(CHECK_NAME)) return;
    // the base's, a merge train's or a person's branch: its checks are no agent PR's head's (asked of GitHub only when the event does not say)
    if (event.branches.length > 0 && !event.branches.some((b) => issueOfBranch(b) !== undefined)) return;
    const github = gitHubOf(services, context);
    const config = await services.configs.get(github);
    if (!config.ok) return;
    const { owner, repo } = context.repo();
    await reviewCiResult({ ...services, serial }, {
      github,
      repository: repositoryFromPayload(context.payload.repository),
      sha: event.sha,
      config: config.config,
      log: context.log.child({ repo: `${owner}/${repo}`, delivery: context.id }),
    });
  };
}
