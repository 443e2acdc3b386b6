import { isObject, num, parseObjectLine, shellQuote } from './parse-output.js';
import type { CommandLineContext, CommandPreset, ParsedAgentOutput, ParsedUsage } from './preset.js';

/**
 * Gemini CLI (0.61), headless: the task on stdin, `-o stream-json` for JSON lines ending in a `result` line.
 *
 * - `--approval-mode auto_edit`: file edits are approved (nobody is there to ask); in an untrusted folder
 *   the CLI silently falls back to `default`, where a headless run may not edit, hence `--skip-trust`.
 * - Its home (`GEMINI_CLI_HOME`) is the run's private state folder, with a settings file written there
 *   first: `security.auth.selectedType` is `gemini-api-key`, because with `GOOGLE_GEMINI_BASE_URL` set
 *   the CLI otherwise picks its "gateway" auth, which a headless run refuses ("Invalid auth method
 *   selected", exit 41); usage statistics (Clearcut logging to play.googleapis.com) and update checks
 *   are off; `model.maxSessionTurns` is the budget's turns.
 * - `map.allowedCommands` become a policy file: with auto_edit a headless run is offered no shell tool
 *   at all, and with the policy it may run exactly those commands (a ` *` entry: with any arguments);
 *   the CLI checks each part of a chained command on its own.
 */
export const geminiPreset: CommandPreset = {
  name: 'gemini',
  hosts: ['generativelanguage.googleapis.com'],
  // telemetry stays off even where the repository's own .gemini/settings.json turns it on
  env: { GEMINI_TELEMETRY_ENABLED: 'false' },
  commandLine: geminiCommandLine,
  parse: parseGeminiOutput,
};

function geminiCommandLine({ budget, model, stateDir, allowedCommands }: CommandLineContext): string {
  const settingsDir = `${stateDir}/.gemini`;
  const policy = geminiPolicy(allowedCommands);
  const policyFile = `${stateDir}/gemini-policy.toml`;
  return [
    `mkdir -p ${shellQuote(settingsDir)}`,
    `printf '%s\\n' ${shellQuote(JSON.stringify(geminiSettings(budget.maxTurns)))} > ${shellQuote(`${settingsDir}/settings.json`)}`,
    ...(policy ? [`printf '%s' ${shellQuote(policy)} > ${shellQuote(policyFile)}`] : []),
    [
      `GEMINI_CLI_HOME=${shellQuote(stateDir)} gemini --skip-trust --approval-mode auto_edit -o stream-json`,
      ...(policy ? [`--policy ${shellQuote(policyFile)}`] : []),
      ...(model ? [`--model ${shellQuote(model)}`] : []),
    ].join(' '),
  ].join(' && ');
}

/** The user settings of a run (the repository's own `.gemini/settings.json` still applies on top). */
export function geminiSettings(maxTurns: number): Record<string, unknown> {
  return {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    ide: { enabled: false },
    model: { maxSessionTurns: Math.max(1, Math.floor(maxTurns)) },
  };
}

/**
 * A policy (TOML) allowing `run_shell_command` for `map.allowedCommands`, or undefined when there are none.
 * The CLI matches a rule's `commandRegex` against its arguments as sorted JSON with each top-level pair
 * between NUL characters, so `"command":"npm test"` followed by NUL is exactly `npm test`.
 */
export function geminiPolicy(allowedCommands: readonly string[]): string | undefined {
  const rules: string[] = [];
  for (const entry of allowedCommands) {
    const normalised = entry.trim().replace(/\s+/g, ' ');
    if (normalised === '' || normalised === '*') continue;
    const prefix = normalised.endsWith(' *');
    const words = (prefix ? normalised.slice(0, -2) : normalised).split(' ').map((word) => escapeRegExp(JSON.stringify(word).slice(1, -1)));
    // the command as words between blanks; a prefix then ends, or goes on after a blank
    const regex = ` *${words.join(' +')}${prefix ? '(?: |"\\x00)' : ' *"\\x00'}`;
    rules.push([
      '[[rule]]',
      'toolName = "run_shell_command"',
      `commandRegex = ${JSON.stringify(regex)}`,
      'decision = "allow"',
      'priority = 100',
      '',
    ].join('\n'));
  }
  return rules.length > 0 ? rules.join('\n') : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `gemini -o stream-json`: JSON lines (`init`, `message`, `tool_use`, `tool_result`, `error`) ending in
 * a `result` line; `status: "error"` is a failure, its reason in `result.error` or, for a stream the
 * CLI found invalid, in the last `error` line. The summary is the text of the model's last turn (it
 * arrives in deltas); a turn is one model response, counted where the stream goes from the user's
 * side (the task, tool results) to the model's (text, tool calls).
 */
export function parseGeminiOutput(output: string): ParsedAgentOutput {
  let result: Record<string, unknown> | undefined;
  let text = '';
  let modelSpeaking = false;
  let turns = 0;
  let lastError: string | undefined;
  for (const line of output.split('\n')) {
    const event = parseObjectLine(line);
    if (!event || typeof event.type !== 'string') continue;
    const fromModel = (event.type === 'message' && event.role === 'assistant') || event.type === 'tool_use';
    if (fromModel && !modelSpeaking) {
      turns += 1;
      text = '';
    }
    if (fromModel) modelSpeaking = true;
    else if (event.type === 'tool_result' || (event.type === 'message' && event.role === 'user')) modelSpeaking = false;

    if (event.type === 'message' && event.role === 'assistant' && typeof event.content === 'string') {
      text = event.delta === true ? text + event.content : event.content;
    } else if (event.type === 'error' && event.severity === 'error' && typeof event.message === 'string') {
      lastError = event.message;
    } else if (event.type === 'result') {
      result = event;
    }
  }
  const message = text.trim() !== '' ? { message: text } : {};
  if (!result) return { status: 'unknown', ...message, usage: turns > 0 ? { turns } : {} };

  const stats = isObject(result.stats) ? result.stats : {};
  const inputTokens = num(stats.input_tokens);
  const usage: ParsedUsage = {
    turns,
    // input_tokens is the whole prompt, cached part included; output_tokens leaves out the thinking,
    // which the total counts and which is billed as output
    inputTokens,
    outputTokens: Math.max(num(stats.output_tokens), num(stats.total_tokens) - inputTokens),
    cacheReadTokens: num(stats.cached),
  };
  if (result.status === 'error') {
    const error = isObject(result.error) ? result.error : {};
    const reason = typeof error.message === 'string' && error.message.trim() !== '' ? readableError(error.message, error.type) : lastError;
    return { status: 'error', message: reason ?? 'it reported an error without a reason', usage };
  }
  return { status: 'success', ...message, usage };
}

/** `[API Error: {"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}]` as `API error 400 INVALID_ARGUMENT: …`. */
function readableError(message: string, type: unknown): string {
  if (type === 'FatalTurnLimitedError') return `it reached its limit of turns (${message})`;
  const inner = /^\[API Error: ([\s\S]*)\]$/.exec(message.trim())?.[1];
  if (inner === undefined) return message;
  let parsed: unknown;
  try {
    parsed = JSON.parse(inner);
  } catch {
    return `API error: ${inner}`;
  }
  const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : undefined;
  if (!error || typeof error.message !== 'string') return `API error: ${inner}`;
  const code = [error.code, error.status].filter((part) => typeof part === 'number' || typeof part === 'string').join(' ');
  return `API error${code ? ` ${code}` : ''}: ${error.message}`;
}
