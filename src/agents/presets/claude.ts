import { isObject, lastJsonObject, num, shellQuote } from './parse-output.js';
import type { CommandPreset, ParsedAgentOutput, ParsedUsage } from './preset.js';

export const claudePreset: CommandPreset = {
  name: 'claude',
  hosts: ['api.anthropic.com'],
  // otherwise it reports telemetry and checks for updates on every run
  env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
  // Without a permission mode, `claude -p` is refused every file edit (there is nobody to ask).
  commandLine: ({ budget, model }) => [
    'claude -p --output-format json --permission-mode acceptEdits',
    `--max-turns ${Math.max(1, Math.floor(budget.maxTurns))}`,
    `--max-budget-usd ${budget.maxCostUsd}`,
    ...(model ? [`--model ${shellQuote(model)}`] : []),
  ].join(' '),
  parse: parseClaudeOutput,
};

/** `claude -p --output-format json`: one result object (an array of messages ending in it with --verbose). */
export function parseClaudeOutput(output: string): ParsedAgentOutput {
  const result = lastJsonObject(output, (o) => o.type === 'result');
  return result ? claudeResult(result) : { status: 'unknown', usage: {} };
}

const claudeErrors: Record<string, string> = {
  error_max_turns: 'it reached its limit of turns',
  error_max_budget_usd: 'it reached its cost limit',
  error_during_execution: 'it failed during execution',
};

export function claudeResult(r: Record<string, unknown>): ParsedAgentOutput {
  const subtype = typeof r.subtype === 'string' ? r.subtype : undefined;
  const text = typeof r.result === 'string' && r.result.trim() !== '' ? r.result : undefined;
  const failed = r.is_error === true || (subtype?.startsWith('error') ?? false);
  const usage = isObject(r.usage) ? r.usage : {};
  const cacheRead = num(usage.cache_read_input_tokens);
  const parsed: ParsedUsage = {
    turns: num(r.num_turns),
    // input_tokens counts only the uncached part; AgentUsage counts all input, cache included
    inputTokens: num(usage.input_tokens) + cacheRead + num(usage.cache_creation_input_tokens),
    outputTokens: num(usage.output_tokens),
    cacheReadTokens: cacheRead,
    costUsd: num(r.total_cost_usd ?? r.cost_usd),
  };
  if (!failed) return { status: 'success', ...(text ? { message: text } : {}), usage: parsed };
  const reason = text ?? (subtype ? claudeErrors[subtype] ?? subtype : 'it reported an error');
  return { status: 'error', message: reason, usage: parsed };
}
