import type { Context } from 'probot';
import type { ConfigCache } from '../config/config-cache.js';
import type { ReduceService } from '../reduce/reduce-service.js';
import { gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';

type ReduceEvent =
  | 'pull_request_review.submitted' | 'pull_request.closed' | 'push' | 'check_suite.completed' | 'check_run.completed' | 'status';

/**
 * Anything that can change which agent PRs may merge (an approval, a merge, a push to the base,
 * finished checks) starts a reduce pass for the repository's base branch; the pass re-reads
 * everything, so the event itself only says "look again". It runs after the webhook is answered.
 */
export function onReduceTrigger(services: RequestCounting & { configs: ConfigCache; reduce: ReduceService }) {
  return async (context: Context<ReduceEvent>): Promise<void> => {
    const payload = context.payload as { review?: { state?: string }; ref?: string; repository: { default_branch: string; clone_url: string } };
    if (context.name === 'pull_request_review' && payload.review?.state !== 'approved') return;
    const { owner, repo } = context.repo();
    const github = gitHubOf(services, context);
    const config = await services.configs.get(github);
    if (!config.ok || !config.config.reduce.enabled) return;
    const baseRef = config.config.map.baseBranch ?? payload.repository.default_branch;
    // pushes to agent branches (the app's own included) change nothing a pass would act on
    if (context.name === 'push' && payload.ref !== `refs/heads/${baseRef}`) return;
    const log = context.log.child({ repo: `${owner}/${repo}`, delivery: context.id });
    void services.reduce.trigger({
      github,
      repository: { defaultBranch: payload.repository.default_branch, cloneUrl: payload.repository.clone_url },
      baseRef,
      config: config.config,
      log,
    });
  };
}
