import type { ProbotOctokit } from 'probot';
import { issuesPart, mergingPart, pullsPart, repositoryPart, reviewsPart, type AdapterContext } from './octokit-parts.js';
import type { GitHub, PullInfo } from './port.js';
import { observeRequests, type RequestObserver } from './observe-requests.js';
import { retryRateLimits } from './retry-rate-limits.js';
import { toPull, type RestPull } from './rest-shapes.js';

export interface GitHubTarget {
  owner: string;
  repo: string;
  /** The installation the octokit acts for: git tokens are made for it. */
  installationId: number;
  /** Told of every API request and its answer (the profile counts them). */
  onRequest?: RequestObserver;
}

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
