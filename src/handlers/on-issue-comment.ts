import type { Context } from 'probot';
import { parseCommand } from '../commands/parse-command.js';
import { dispatchCommand, type CommandDeps } from '../commands/dispatch-command.js';
import { issueFromPayload, repositoryFromPayload, gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';

type CommentPayload = Context<'issue_comment.created'>['payload'];

/** Whether a new comment is one this handler acts on: a command, from a person (bots, this app included, are ignored). */
export function isPersonsCommand(payload: CommentPayload): boolean {
  const { comment, sender } = payload;
  return sender.type !== 'Bot' && comment.user?.type !== 'Bot' && parseCommand(comment.body) !== null;
}

/** A new comment: act only on a command from a person (bots, this app included, are ignored). */
export function onIssueComment(services: CommandDeps & RequestCounting) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue, sender } = context.payload;
    if (!isPersonsCommand(context.payload)) return;
    const command = parseCommand(comment.body)!;

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
