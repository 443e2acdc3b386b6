import type { Context } from 'probot';
import { requestIssueRun, type IssueRunDeps } from '../map/request-issue-run.js';
import { issueFromPayload, repositoryFromPayload, gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';
import { DEFAULT_LABEL } from '../names.js';

/** Whether a label was added by a person: a bot's (this app's own state labels among them) never queues an issue. */
export function isLabelByPerson(payload: Context<'issues.labeled'>['payload']): boolean {
  return payload.label !== undefined && payload.sender.type !== 'Bot';
}

/** A label was added: if it is the trigger label, added by a person, queue the issue. */
export function onIssueLabeled(services: IssueRunDeps & RequestCounting) {
  return async (context: Context<'issues.labeled'>): Promise<void> => {
    const { issue, label, sender } = context.payload;
    if (!label || !isLabelByPerson(context.payload)) return;
    const { owner, repo } = context.repo();
    const github = gitHubOf(services, context);
    const config = await services.configs.get(github);
    // the label that matters is the config's; while the config is invalid, only the default one
    // (whose run would be refused with the config's problems) gets an answer
    if (label.name !== (config.ok ? config.config.label : DEFAULT_LABEL)) return;
    await requestIssueRun(services, {
      github,
      repository: repositoryFromPayload(context.payload.repository),
      issue: issueFromPayload(issue),
      requester: { login: sender.login, id: sender.id },
      since: Date.parse(issue.updated_at) || Date.now(),
      retry: false,
      log: context.log.child({ repo: `${owner}/${repo}`, issue: issue.number, delivery: context.id }),
    });
  };
}
