import type { ProbotOctokit } from 'probot';
import { issuesPart, mergingPart, pullsPart, repositoryPart, reviewsPart, type AdapterContext, type GitHubTarget } from './octokit-parts.js';
import type { GitHub, PullInfo } from './port.js';
import { observeRequests } from './observe-requests.js';
import { retryRateLimits } from './retry-rate-limits.js';
import { toPull, type RestPull } from './rest-shapes.js';

/** The GitHub port on Probot's Octokit, for one repository of one installation: the port's one real implementation. */
export function createOctokitGitHub(octokit: ProbotOctokit, target: GitHubTarget): GitHub {
  retryRateLimits(octokit);
  if (target.onRequest) observeRequests(octokit, target.onRequest);
  const { owner, repo } = target;
  const where = { owner, repo };
  const listOpenPulls = async (): Promise<PullInfo[]> => {
    const pulls = await octokit.paginate(octokit.rest.pulls.list, { ...where, state: 'open', per_page: 100 });
    return pulls.map((p) => toPull(p as RestPull));
  };
  const ctx: AdapterContext = { octokit, where, repo, target, listOpenPulls };
  return { owner, repo, ...repositoryPart(ctx), ...issuesPart(ctx), ...pullsPart(ctx), ...reviewsPart(ctx), ...mergingPart(ctx) };
}
