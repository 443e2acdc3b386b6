import type { Logger } from '../log.js';
import type { GitHub } from '../github/port.js';
import { isWriter } from '../github/port.js';
import type { MarkedComments } from '../github/marked-comment.js';
import { loadConfig } from '../config/load-config.js';
import { reportConfigProblems } from '../config/report-config-problems.js';
import { describeStatus, readIssueStatus } from '../status/issue-status.js';
import type { Command } from './parse-command.js';
import { renderHelp } from './render-help.js';
import { VERB_INFO } from './verbs.js';

export interface CommandRequest {
  github: GitHub;
  comments: MarkedComments;
  log: Logger;
  issueNumber: number;
  isPullRequest: boolean;
  author: string;
  command: Command;
}

export type CommandOutcome = 'refused' | 'help' | 'status' | 'config-invalid' | 'not-available';

/**
 * Carries out one comment command:
 * 1. only writers may command the bot;
 * 2. help (and unknown verbs) answer with the command list;
 * 3. the repository's config must be valid for anything else;
 * 4. the verb runs, or says it is not available yet.
 */
export async function runCommand(request: CommandRequest): Promise<CommandOutcome> {
  const { github, issueNumber, author, command, log } = request;
  const reply = (text: string) => github.createComment(issueNumber, `@${author} ${text}`);

  const permission = await github.getPermission(author);
  if (!isWriter(permission)) {
    log.info({ author, permission }, 'command refused: not a writer');
    await reply('sorry, only people with write access to this repository can command agent-mapreduce.');
    return 'refused';
  }

  if (command.verb === 'help' || command.verb === 'unknown') {
    const config = await loadConfig(github);
    const unknown = command.verb === 'unknown'
      ? (command.word ? `\`${command.word.slice(0, 40)}\` is not a command I know. ` : '')
      : '';
    await reply(`${unknown}${renderHelp(config.ok ? config.config.label : 'agent')}`);
    return 'help';
  }

  const config = await loadConfig(github);
  if (!config.ok) {
    await reportConfigProblems(github, request.comments, issueNumber, config.problems);
    log.warn({ problems: config.problems }, 'command not run: invalid config');
    return 'config-invalid';
  }

  if (command.verb === 'status') {
    const found = await readIssueStatus(github, request.comments, issueNumber);
    const what = request.isPullRequest ? 'this PR' : 'this issue';
    await reply(found
      ? `status of ${what}: ${describeStatus(found.status)}`
      : `there is no agent run for ${what} yet. Label an issue \`${config.config.label}\` to start one.`);
    return 'status';
  }

  if (!VERB_INFO[command.verb].available) {
    await reply(`\`/agent ${command.verb}\` is not available yet in this version of agent-mapreduce. ` +
      'Comment `/agent help` for the commands that are.');
  }
  return 'not-available';
}
