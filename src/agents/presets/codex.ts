import { isObject, num, parseObjectLine, shellQuote } from './parse-output.js';
import type { CommandPreset, ParsedAgentOutput, ParsedUsage } from './preset.js';

export const codexPreset: CommandPreset = {
  name: 'codex',
  hosts: ['api.openai.com'],
  // `codex exec` is read-only unless told otherwise; workspace-write confines writes to the worktree.
  commandLine: ({ model }) => [
    'codex exec --json --skip-git-repo-check --sandbox workspace-write',
    ...(model ? [`--model ${shellQuote(model)}`] : []),
    '-',
  ].join(' '),
  parse: parseCodexOutput,
};

/** `codex exec --json`: JSONL thread events. */
export function parseCodexOutput(output: string): ParsedAgentOutput {
  let turns = 0;
  let lastUsage: Record<string, unknown> | undefined;
  let lastMessage: string | undefined;
  let failure: string | undefined;
  let sawEvent = false;
  for (const line of output.split('\n')) {
    const event = parseObjectLine(line);
    if (!event || typeof event.type !== 'string') continue;
    sawEvent = true;
    if (isObject(event.usage)) lastUsage = event.usage;
    if (event.type === 'turn.completed') {
      turns += 1;
      failure = undefined; // an error the turn recovered from (a reconnect notice) is not a failure
    } else if (event.type === 'turn.failed' || event.type === 'error') {
      const error = isObject(event.error) ? event.error : event;
      failure = typeof error.message === 'string' && error.message.trim() !== '' ? error.message : event.type;
    } else if (event.type === 'item.completed' && isObject(event.item)) {
      const { item } = event;
      const kind = item.type ?? item.item_type;
      if ((kind === 'agent_message' || kind === 'assistant_message') && typeof item.text === 'string') lastMessage = item.text;
    }
  }
  const usage: ParsedUsage = {
    turns,
    inputTokens: num(lastUsage?.input_tokens),
    outputTokens: num(lastUsage?.output_tokens),
    cacheReadTokens: num(lastUsage?.cached_input_tokens),
  };
  if (failure !== undefined) return { status: 'error', message: failure, usage };
  if (turns > 0) return { status: 'success', ...(lastMessage ? { message: lastMessage } : {}), usage };
  return { status: 'unknown', ...(sawEvent && lastMessage ? { message: lastMessage } : {}), usage };
}
