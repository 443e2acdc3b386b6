import type { Context } from 'probot';
import { requestIssueRun, type IssueRunDeps } from '../map/request-issue-run.js';
import { issueFromPayload, repositoryFromPayload, gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';
import { DEFAULT_LABEL } from '../names.js';

type LabeledPayload = Context<'issues.labeled'>['payload'];

/** The label added, if a person added it: a bot's (this app's own state labels among them) never queues an issue. */
export function labelByPerson(payload: LabeledPayload): NonNullable<LabeledPayload['label']> | undefined {
  return payload.sender.type === 'Bot' ? undefined : payload.label;
}

/** A label was added: if it is the trigger label, added by a person, queue the issue. */
export function onIssueLabeled(services: IssueRunDeps & RequestCounting) {
  return async (context: Context<'issues.labeled'>): Promise<void> => {
    const { issue, sender } = context.payload;
    const label = labelByPerson(context.payload);
    if (!label) return;
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
