import type { ProbotOctokit } from 'probot';
import { issuesPart, mergingPart, pullsPart, repositoryPart, reviewsPart, type AdapterContext, type GitHubTarget } from './octokit-parts.js';
import { checksPart } from './checks-part.js';
import type { GitHub, PullInfo } from './port.js';
import { conditionalReads, type ReadCache } from './conditional-reads.js';
import { observeRequests, type RequestObserver } from './observe-requests.js';
import { paceWrites, type WriteObserver } from './pace-writes.js';
import type { WriteBudgets } from './write-budget.js';
import { retryRateLimits } from './retry-rate-limits.js';
import { toPull, type RestPull } from './rest-shapes.js';

/** The GitHub port on Probot's Octokit, for one repository of one installation: the port's one real implementation. */
export function createOctokitGitHub(octokit: ProbotOctokit, target: GitHubTarget): GitHub {
  retryRateLimits(octokit);
  // outside the retry: a write takes one place in the budget however often it is tried
  if (target.writes) paceWrites(octokit, target.writes.budget, target.writes.observer);
  if (target.onRequest) observeRequests(octokit, target.onRequest);
  // outside the counting: a 304 is counted as what it was, then answered from the kept copy
  if (target.reads) conditionalReads(octokit, target.reads, target.installationId);
  const { owner, repo } = target;
  const where = { owner, repo };
  const listOpenPulls = async (): Promise<PullInfo[]> => {
    const pulls = await octokit.paginate(octokit.rest.pulls.list, { ...where, state: 'open', per_page: 100 });
    return pulls.map((p) => toPull(p as RestPull));
  };
  const ctx: AdapterContext = { octokit, where, repo, target, listOpenPulls };
  return { owner, repo, installationId: target.installationId, ...repositoryPart(ctx), ...issuesPart(ctx), ...pullsPart(ctx), ...reviewsPart(ctx), ...checksPart(ctx), ...mergingPart(ctx) };
}

/** What every GitHub target of the app shares: the profile that counts its requests, the write budgets, the kept reads. */
export interface RequestCounting {
  profile: { githubRequest: RequestObserver; githubWrite: WriteObserver };
  writes: WriteBudgets;
  reads: ReadCache;
}

/** The parts of a GitHub target that count its requests, pace its writes and make its reads conditional. */
export function countedAndPaced(services: RequestCounting, installationId: number): Pick<GitHubTarget, 'onRequest' | 'writes' | 'reads'> {
  return {
    reads: services.reads,
    onRequest: (request) => services.profile.githubRequest(request),
    writes: { budget: services.writes.of(installationId), observer: (write) => services.profile.githubWrite(write) },
  };
}
