import type { Context } from 'probot';
import { parseCommand } from '../commands/parse-command.js';
import { dispatchCommand, type CommandDeps } from '../commands/dispatch-command.js';
import { issueFromPayload, repositoryFromPayload, gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';

/** A new comment: act only on a command from a person (bots, this app included, are ignored). */
export function onIssueComment(services: CommandDeps & RequestCounting) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue, sender } = context.payload;
    if (context.isBot || comment.user?.type === 'Bot') return;
    const command = parseCommand(comment.body);
    if (!command) return;

    const { owner, repo } = context.repo();
    const author = comment.user ?? sender;
    await dispatchCommand({
      services,
      github: gitHubOf(services, context),
      repository: repositoryFromPayload(context.payload.repository),
      issue: issueFromPayload(issue),
      author: { login: author.login, id: author.id },
      command,
      commentId: comment.id,
      log: context.log.child({ repo: `${owner}/${repo}`, issue: issue.number, delivery: context.id, verb: command.verb }),
    });
  };
}
