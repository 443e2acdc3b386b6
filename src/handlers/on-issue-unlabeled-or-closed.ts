import type { Context } from 'probot';
import type { ConfigCache } from '../config/config-cache.js';
import type { MapService } from '../map/map-service.js';
import { gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';

/** The trigger label was removed, or the issue closed: stop its job, queued or running. */
export function onIssueUnlabeledOrClosed(services: RequestCounting & { configs: ConfigCache; map: MapService }) {
  return async (context: Context<'issues.unlabeled' | 'issues.closed'>): Promise<void> => {
    const { issue } = context.payload;
    const { owner, repo } = context.repo();
    // in a fleet the job may run in another process: the cancel is sent there
    if (!services.map.state(owner, repo, issue.number) && !services.map.inFleet) return;
    const github = gitHubOf(services, context);
    let reason = 'The issue was closed.';
    if (context.payload.action === 'unlabeled') {
      const config = await services.configs.get(github);
      const label = config.ok ? config.config.label : 'agent';
      if (context.payload.label?.name !== label) return;
      reason = `The \`${label}\` label was removed by @${context.payload.sender.login}.`;
    }
    const result = await services.map.cancel(github, issue.number, reason);
    context.log.info({ repo: `${owner}/${repo}`, issue: issue.number, result }, 'issue job cancelled');
  };
}
