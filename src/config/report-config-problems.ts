import type { GitHub } from '../github/port.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { ConfigProblem } from './parse-config.js';
import { CONFIG_PATH } from './schema.js';
import { CONFIG_PROBLEMS_KIND } from '../names.js';


/** Quotes every problem of the config file in the issue's one config comment, edited in place. */
export async function reportConfigProblems(
  github: GitHub,
  comments: MarkedComments,
  issueNumber: number,
  problems: ConfigProblem[],
): Promise<void> {
  const shown = problems.slice(0, 50);
  const lines = shown.map((p) => `- \`${p.path}\`: ${p.message.replaceAll('\n', ' ')}`);
  if (problems.length > shown.length) lines.push(`- … and ${problems.length - shown.length} more`);
  const text = [
    `**agent-mapreduce did not run:** \`${CONFIG_PATH}\` is not valid.`,
    '',
    ...lines,
    '',
    'Fix the file on the default branch, then comment the command again or re-add the label.',
  ].join('\n');
  await comments.upsert(github, issueNumber, CONFIG_PROBLEMS_KIND, text);
}
