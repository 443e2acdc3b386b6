import { VERBS, VERB_INFO } from './verbs.js';

/** The help comment: every command, where it works, and what it does. */
export function renderHelp(label: string): string {
  const rows = VERBS.map((verb) => {
    const info = VERB_INFO[verb];
    const note = info.available ? '' : ' _(not available yet)_';
    return `| \`${info.usage}\` | ${info.where} | ${info.does}${note} |`;
  });
  return [
    `**agent-mapreduce commands.** Label an issue \`${label}\` to hand it to a coding agent. ` +
      'Then comment one of these on its own line (people with write access only):',
    '',
    '| command | where | does |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}
