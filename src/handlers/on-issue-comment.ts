import type { Context } from 'probot';
import { parseCommand } from '../commands/parse-command.js';
import { runCommand } from '../commands/run-command.js';
import { createOctokitGitHub } from '../github/octokit-github.js';
import type { Services } from '../services.js';

/** A new comment: act only on a command from a person (bots, this app included, are ignored). */
export function onIssueComment(services: Services) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue } = context.payload;
    if (context.isBot || comment.user?.type === 'Bot') return;
    const command = parseCommand(comment.body);
    if (!command) return;

    const { owner, repo } = context.repo();
    const log = context.log.child({ repo: `${owner}/${repo}`, issue: issue.number, delivery: context.id, verb: command.verb });
    await runCommand({
      github: createOctokitGitHub(context.octokit, { owner, repo }),
      comments: services.comments,
      log,
      issueNumber: issue.number,
      isPullRequest: issue.pull_request !== undefined && issue.pull_request !== null,
      author: comment.user?.login ?? context.payload.sender.login,
      command,
    });
  };
}
