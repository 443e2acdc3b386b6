import type { AgentBudget, AgentUsage } from './agent.js';

/**
 * Ready-made command lines for known agent CLIs and the parsers for what they print
 * (DESIGN §3 Agents, command agent). A parser never throws: output it does not recognise is
 * `status: 'unknown'`, and the command agent then judges the run from the exit code and the diff.
 */
export type CommandPresetName = 'claude' | 'codex' | 'aider';

export type ParsedUsage = Partial<Pick<AgentUsage, 'turns' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'costUsd'>>;

export interface ParsedAgentOutput {
  /** success / error: the CLI said how the run ended; unknown: it printed no structured result. */
  status: 'success' | 'error' | 'unknown';
  /** success: the agent's final message; error: why it failed. */
  message?: string;
  usage: ParsedUsage;
}

export interface CommandLineContext {
  budget: AgentBudget;
  model?: string;
  /** A private folder outside the worktree, removed after the run, for files the CLI keeps for itself. */
  stateDir: string;
}

export interface CommandPreset {
  name: CommandPresetName;
  /** The command line, for `sh -c`; `{task_file}` in it is replaced by the task's path, otherwise the task goes to stdin. */
  commandLine(context: CommandLineContext): string;
  parse(output: string): ParsedAgentOutput;
  /** The model API hosts the CLI needs: its sandbox reaches nothing else (the operator may add more). */
  hosts: readonly string[];
  /** Variables the CLI always gets (switches, never secrets). */
  env?: Record<string, string>;
  /** Entries the CLI leaves at the worktree root for itself; new ones are removed after the run so they do not end up in the PR. */
  leftovers?: RegExp;
}

export const commandPresets: Record<CommandPresetName, CommandPreset> = {
  claude: {
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
  },
  codex: {
    name: 'codex',
    hosts: ['api.openai.com'],
    // `codex exec` is read-only unless told otherwise; workspace-write confines writes to the worktree.
    commandLine: ({ model }) => [
      'codex exec --json --skip-git-repo-check --sandbox workspace-write',
      ...(model ? [`--model ${shellQuote(model)}`] : []),
      '-',
    ].join(' '),
    parse: parseCodexOutput,
  },
  aider: {
    name: 'aider',
    hosts: ['api.anthropic.com', 'api.openai.com', 'openrouter.ai'],
    // Its histories go to the private folder; with --yes-always it would otherwise also edit
    // .gitignore, accept analytics and install updates.
    commandLine: ({ model, stateDir }) => [
      'aider --yes-always --no-auto-commits --no-stream --no-pretty --no-gitignore --no-check-update --no-analytics',
      `--chat-history-file ${shellQuote(`${stateDir}/aider.chat.history.md`)}`,
      `--input-history-file ${shellQuote(`${stateDir}/aider.input.history`)}`,
      ...(model ? [`--model ${shellQuote(model)}`] : []),
      '--message-file {task_file}',
    ].join(' '),
    parse: parseAiderOutput,
    leftovers: /^\.aider\.tags\.cache\.v\d+$/,
  },
};

/** A custom command with no preset: a Claude-style JSON result on its last JSON line is used if there is one. */
export function parseGenericOutput(output: string): ParsedAgentOutput {
  const last = lastJsonObject(output, () => true);
  if (last && ('is_error' in last || 'result' in last || last.type === 'result')) return claudeResult(last);
  return { status: 'unknown', usage: {} };
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

function claudeResult(r: Record<string, unknown>): ParsedAgentOutput {
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

/**
 * aider prints no structured result, only a line per model call such as
 * `Tokens: 2.5k sent, 1.2k cache hit, 512 received. Cost: $0.01 message, $0.03 session.`
 */
export function parseAiderOutput(output: string): ParsedAgentOutput {
  const usage: Required<ParsedUsage> = { turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0 };
  let messageCost = 0;
  let sessionCost: number | undefined;
  for (const line of output.split('\n')) {
    const tokens = /Tokens:\s*(.*)$/.exec(line)?.[1];
    if (tokens === undefined) continue;
    const sent = tokenCount(tokens, /([\d.]+k?) sent/);
    const received = tokenCount(tokens, /([\d.]+k?) received/);
    if (sent === undefined && received === undefined) continue;
    usage.turns += 1;
    usage.inputTokens += sent ?? 0;
    usage.outputTokens += received ?? 0;
    usage.cacheReadTokens += tokenCount(tokens, /([\d.]+k?) cache (?:hit|read)/) ?? 0;
    const message = /\$([\d.]+) message/.exec(tokens)?.[1];
    if (message !== undefined) messageCost += Number(message) || 0;
    const session = /\$([\d.]+) session/.exec(tokens)?.[1];
    if (session !== undefined) sessionCost = Number(session) || 0;
  }
  usage.costUsd = sessionCost ?? messageCost;
  return { status: 'unknown', usage };
}

function tokenCount(text: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(text)?.[1];
  if (match === undefined) return undefined;
  const value = match.endsWith('k') ? Number(match.slice(0, -1)) * 1000 : Number(match);
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/** The last line of output that is a JSON object accepted by `accept` (or an array whose last such element is). */
function lastJsonObject(output: string, accept: (o: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = (lines[i] ?? '').trim();
    if (line.startsWith('{')) {
      const object = parseObjectLine(line);
      if (object && accept(object)) return object;
    } else if (line.startsWith('[') && line.endsWith(']')) {
      let array: unknown;
      try {
        array = JSON.parse(line);
      } catch {
        continue;
      }
      if (!Array.isArray(array)) continue;
      for (let j = array.length - 1; j >= 0; j -= 1) {
        const element: unknown = array[j];
        if (isObject(element) && accept(element)) return element;
      }
    }
  }
  return undefined;
}

function parseObjectLine(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Quotes a word for `sh`; words made only of safe characters are left as they are. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
