import { isObject, lastJsonObject, num, shellQuote } from './parse-output.js';
import type { CommandPreset, ParsedAgentOutput, ParsedUsage } from './preset.js';

export const claudePreset: CommandPreset = {
  name: 'claude',
  hosts: ['api.anthropic.com'],
  // otherwise it reports telemetry and checks for updates on every run
  env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
  // Without a permission mode, `claude -p` is refused every file edit (there is nobody to ask); the
  // repository's allowed commands are its only allowed Bash commands (every other one is denied).
  // Only the (private, empty) user settings are read: a repository's `.claude/settings.json` and
  // `.mcp.json` could otherwise widen the allowed tools or start servers of their own.
  commandLine: ({ budget, model, allowedCommands }) => {
    const rules = claudeAllowedTools(allowedCommands);
    return [
      'claude -p --output-format json --permission-mode acceptEdits --setting-sources user --strict-mcp-config',
      ...(rules.length > 0 ? [`--allowedTools ${rules.map(shellQuote).join(' ')}`] : []),
      `--max-turns ${Math.max(1, Math.floor(budget.maxTurns))}`,
      `--max-budget-usd ${budget.maxCostUsd}`,
      ...(model ? [`--model ${shellQuote(model)}`] : []),
    ].join(' ');
  },
  parse: parseClaudeOutput,
};

/**
 * `map.allowedCommands` as Claude Code permission rules: `npm test` → `Bash(npm test)` (that command
 * line only), `npm test *` → `Bash(npm test:*)` (`npm test`, alone or followed by arguments; Claude
 * Code checks each part of a chained command on its own, so `npm test; rm -rf x` is still refused).
 * Claude Code reads `*` anywhere in a rule as a wildcard, so any other `*` is escaped: a rule is
 * never wider than its entry.
 */
export function claudeAllowedTools(allowedCommands: readonly string[]): string[] {
  const rules: string[] = [];
  for (const entry of allowedCommands) {
    const trimmed = entry.trim();
    const prefix = /\s\*$/.test(trimmed) ? trimmed.slice(0, -1).trimEnd() : undefined;
    const command = prefix ?? trimmed;
    if (command === '') continue;
    const literal = command.replaceAll('*', '\\*');
    const rule = prefix === undefined ? `Bash(${literal})` : `Bash(${literal}:*)`;
    if (!rules.includes(rule)) rules.push(rule);
  }
  return rules;
}

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

/** At most this many refused tool uses are named in the summary. */
const DENIALS_SHOWN = 5;

export function claudeResult(r: Record<string, unknown>): ParsedAgentOutput {
  const subtype = typeof r.subtype === 'string' ? r.subtype : undefined;
  const text = typeof r.result === 'string' && r.result.trim() !== '' ? r.result : undefined;
  const failed = r.is_error === true || (subtype?.startsWith('error') ?? false);
  const usage = claudeUsage(r);
  if (!failed) {
    const message = [text, deniedNote(r.permission_denials)].filter((part) => part !== undefined).join('\n\n');
    return { status: 'success', ...(message ? { message } : {}), usage };
  }
  const errors = Array.isArray(r.errors) ? r.errors.filter((e): e is string => typeof e === 'string' && e.trim() !== '') : [];
  const known = subtype ? claudeErrors[subtype] : undefined;
  const reason = text ?? known ?? (errors.length > 0 ? errors.join('; ') : subtype ?? 'it reported an error');
  return { status: 'error', message: reason, usage };
}

/**
 * Turns, tokens and cost. `modelUsage` (per model, every request counted) wins over `usage`,
 * which leaves out the last request when the run stops at its cost limit.
 */
function claudeUsage(r: Record<string, unknown>): ParsedUsage {
  const perModel = isObject(r.modelUsage) ? Object.values(r.modelUsage).filter(isObject) : [];
  const reportedCost = r.total_cost_usd ?? r.cost_usd;
  if (perModel.length > 0) {
    const sum = (field: string) => perModel.reduce((total, model) => total + num(model[field]), 0);
    const cacheRead = sum('cacheReadInputTokens');
    return {
      turns: num(r.num_turns),
      inputTokens: sum('inputTokens') + cacheRead + sum('cacheCreationInputTokens'),
      outputTokens: sum('outputTokens'),
      cacheReadTokens: cacheRead,
      costUsd: typeof reportedCost === 'number' ? num(reportedCost) : sum('costUSD'),
    };
  }
  const usage = isObject(r.usage) ? r.usage : {};
  const cacheRead = num(usage.cache_read_input_tokens);
  return {
    turns: num(r.num_turns),
    // input_tokens counts only the uncached part; AgentUsage counts all input, cache included
    inputTokens: num(usage.input_tokens) + cacheRead + num(usage.cache_creation_input_tokens),
    outputTokens: num(usage.output_tokens),
    cacheReadTokens: cacheRead,
    costUsd: num(reportedCost),
  };
}

/** The tool uses Claude Code refused (commands not on `map.allowedCommands`, mostly), for the summary. */
function deniedNote(denials: unknown): string | undefined {
  if (!Array.isArray(denials)) return undefined;
  const uses = denials.filter(isObject).map((denial) => {
    const tool = typeof denial.tool_name === 'string' ? denial.tool_name : 'a tool';
    const input = isObject(denial.tool_input) ? denial.tool_input : {};
    const what = typeof input.command === 'string' ? input.command : typeof input.file_path === 'string' ? input.file_path : undefined;
    return what === undefined ? tool : `${tool} \`${what.replace(/\s+/g, ' ').replaceAll('`', "'").slice(0, 200)}\``;
  });
  if (uses.length === 0) return undefined;
  const more = uses.length > DENIALS_SHOWN ? ` and ${uses.length - DENIALS_SHOWN} more` : '';
  return `Refused to the agent (the commands it may run are those of \`map.allowedCommands\`): ${uses.slice(0, DENIALS_SHOWN).join(', ')}${more}.`;
}
