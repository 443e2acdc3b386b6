import { shellQuote, tokenCount } from './parse-output.js';
import type { CommandPreset, ParsedAgentOutput, ParsedUsage } from './preset.js';

export const aiderPreset: CommandPreset = {
  name: 'aider',
  hosts: ['api.anthropic.com', 'api.openai.com', 'openrouter.ai'],
  // Its histories go to the private folder; with --yes-always it would otherwise also edit
  // .gitignore, accept analytics and install updates, fetch every URL in the issue and agree to
  // install a browser to do it.
  commandLine: ({ model, stateDir }) => [
    'aider --yes-always --no-auto-commits --no-stream --no-pretty --no-gitignore --no-check-update --no-analytics',
    '--no-detect-urls --disable-playwright',
    `--chat-history-file ${shellQuote(`${stateDir}/aider.chat.history.md`)}`,
    `--input-history-file ${shellQuote(`${stateDir}/aider.input.history`)}`,
    ...(model ? [`--model ${shellQuote(model)}`] : []),
    '--message-file {task_file}',
  ].join(' '),
  parse: parseAiderOutput,
  leftovers: /^\.aider\.tags\.cache\.v\d+$/,
};

/**
 * aider prints no structured result, only a line per model call such as
 * `Tokens: 2.5k sent, 1.2k cache hit, 512 received. Cost: $0.01 message, $0.03 session.`
 * The cost part is read wherever it is printed: some versions put it on a line of its own.
 */
export function parseAiderOutput(output: string): ParsedAgentOutput {
  const usage: Required<ParsedUsage> = { turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0 };
  let messageCost = 0;
  let sessionCost: number | undefined;
  for (const line of output.split('\n')) {
    const tokens = /Tokens:\s*(.*)$/.exec(line)?.[1];
    const sent = tokens === undefined ? undefined : tokenCount(tokens, /([\d.]+k?) sent/);
    const received = tokens === undefined ? undefined : tokenCount(tokens, /([\d.]+k?) received/);
    if (tokens !== undefined && (sent !== undefined || received !== undefined)) {
      usage.turns += 1;
      usage.inputTokens += sent ?? 0;
      usage.outputTokens += received ?? 0;
      usage.cacheReadTokens += tokenCount(tokens, /([\d.]+k?) cache (?:hit|read)/) ?? 0;
    }
    const cost = /Cost:\s*(.*)$/.exec(line)?.[1];
    if (cost === undefined) continue;
    const message = /\$([\d.]+) message/.exec(cost)?.[1];
    if (message !== undefined) messageCost += Number(message) || 0;
    const session = /\$([\d.]+) session/.exec(cost)?.[1];
    if (session !== undefined) sessionCost = Number(session) || 0;
  }
  usage.costUsd = sessionCost ?? messageCost;
  return { status: 'unknown', usage };
}
