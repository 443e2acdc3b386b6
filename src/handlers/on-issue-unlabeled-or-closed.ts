import type { Context } from 'probot';
import type { ConfigCache } from '../config/config-cache.js';
import type { MapService } from '../map/map-service.js';
import { gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';
import { APP_LABELS } from '../names.js';

type Payload = Context<'issues.unlabeled' | 'issues.closed'>['payload'];

/**
 * Whether the event may stop a job: a close, or a label removed, unless it is the app taking off one of
 * its own labels (it does so after every run, and never stops a job that way).
 */
export function mayStopJob(payload: Payload): boolean {
  if (payload.action !== 'unlabeled') return true;
  return !(payload.sender.type === 'Bot' && payload.label !== undefined && APP_LABELS.has(payload.label.name));
}

/** The trigger label was removed, or the issue closed: stop its job, queued or running. */
export function onIssueUnlabeledOrClosed(services: RequestCounting & { configs: ConfigCache; map: MapService }) {
  return async (context: Context<'issues.unlabeled' | 'issues.closed'>): Promise<void> => {
    const { issue } = context.payload;
    if (!mayStopJob(context.payload)) return;
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
