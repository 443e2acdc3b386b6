import type { Context } from 'probot';
import { parseCommand, type Command } from '../commands/parse-command.js';
import { dispatchCommand, type CommandDeps } from '../commands/dispatch-command.js';
import { issueFromPayload, repositoryFromPayload, gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';

/** The command a new comment holds, if a person wrote it (bots, this app included, are ignored); null otherwise. */
export function personsCommand(payload: Context<'issue_comment.created'>['payload']): Command | null {
  const { comment, sender } = payload;
  return sender.type === 'Bot' || comment.user?.type === 'Bot' ? null : parseCommand(comment.body);
}

/** A new comment: act only on a command from a person. */
export function onIssueComment(services: CommandDeps & RequestCounting) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue, sender } = context.payload;
    const command = personsCommand(context.payload);
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
