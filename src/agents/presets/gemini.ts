import { isObject, num, parseObjectLine, shellQuote } from './parse-output.js';
import type { CommandPreset, ParsedAgentOutput, ParsedUsage } from './preset.js';

export const geminiPreset: CommandPreset = {
  name: 'gemini',
  hosts: ['generativelanguage.googleapis.com'],
  // auto_edit: file edits are approved (nobody is there to ask); the task comes on stdin
  commandLine: ({ model }) => [
    'gemini --approval-mode auto_edit -o stream-json',
    ...(model ? [`--model ${shellQuote(model)}`] : []),
  ].join(' '),
  parse: parseGeminiOutput,
};

/** `gemini -o stream-json`: JSON lines ending in a `result` line; `status: "error"` is a failure. */
export function parseGeminiOutput(output: string): ParsedAgentOutput {
  let result: Record<string, unknown> | undefined;
  let lastMessage = '';
  for (const line of output.split('\n')) {
    const event = parseObjectLine(line);
    if (!event) continue;
    if (event.type === 'result') result = event;
    if (event.type === 'message' && event.role === 'assistant' && typeof event.content === 'string') {
      lastMessage = event.delta === true ? lastMessage + event.content : event.content;
    }
  }
  if (!result) return { status: 'unknown', ...(lastMessage ? { message: lastMessage } : {}), usage: {} };
  const stats = isObject(result.stats) ? result.stats : {};
  const usage: ParsedUsage = {
    inputTokens: num(stats.input_tokens),
    outputTokens: num(stats.output_tokens),
    cacheReadTokens: num(stats.cached),
    turns: num(stats.tool_calls),
  };
  if (result.status === 'error') {
    const error = isObject(result.error) ? result.error : {};
    return { status: 'error', message: typeof error.message === 'string' ? error.message : 'it reported an error', usage };
  }
  return { status: 'success', ...(lastMessage ? { message: lastMessage } : {}), usage };
}
