import { isObject, num, parseObjectLine, shellQuote } from './parse-output.js';
import type { CommandPreset, ParsedAgentOutput, ParsedUsage } from './preset.js';

/**
 * `codex exec` (Codex CLI 0.171). It reads its key from CODEX_API_KEY (not OPENAI_API_KEY) and ignores an
 * OPENAI_BASE_URL variable: a base URL (a gateway, or a local server in the tests) is the `openai_base_url`
 * config key, set here from OPENAI_BASE_URL when the operator passes that variable (`agent.env`). Its requests
 * (`POST {base}/responses`, streamed; first a WebSocket upgrade of `GET {base}/responses`, with a fallback to
 * HTTP) honour HTTP_PROXY / HTTPS_PROXY, so they go through the sandbox's allow-listing proxy.
 *
 * `--sandbox danger-full-access`: Codex's own sandbox cannot run inside ours. It is bubblewrap too, and ours
 * forbids nested user namespaces (`bwrap: Creating new namespace failed … (ENOSPC)`); its Landlock fallback
 * (`use_legacy_landlock`) is deprecated and refuses to run without bubblewrap. With `workspace-write` every
 * command and every file edit fails, and the run ends `no-change` (the model still says it is done). Ours
 * already confines it as `workspace-write` would, and more: only the worktree (and private /tmp and HOME) are
 * writable, the clone and `.git` are read-only, and the network is the allow list through the proxy. `codex exec`
 * never asks for approval (its policy is `never`), so the bypass flag adds nothing; this one says what we mean.
 *
 * `--disable plugins` and `analytics.enabled=false`: otherwise each run syncs the curated plugin repository
 * (github.com, api.github.com, chatgpt.com) and sends metrics (ab.chatgpt.com), all outside the allow list.
 */
export const codexPreset: CommandPreset = {
  name: 'codex',
  hosts: ['api.openai.com'],
  commandLine: ({ model }) => [
    'codex exec --json --skip-git-repo-check --sandbox danger-full-access',
    '--disable plugins -c analytics.enabled=false',
    // a TOML string; nothing at all when the variable is unset or empty
    '${OPENAI_BASE_URL:+-c "openai_base_url=\\"$OPENAI_BASE_URL\\""}',
    ...(model ? [`--model ${shellQuote(model)}`] : []),
    '-',
  ].join(' '),
  parse: parseCodexOutput,
};

/**
 * `codex exec --json`: JSONL thread events (`thread.started`, `turn.started`, `item.started` / `item.completed`
 * for agent_message, reasoning, command_execution, file_change and error items, `turn.completed` with the turn's
 * usage, `turn.failed`, `error`). Log lines on stderr (merged into the output) are not JSON and are skipped.
 */
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
  // input_tokens counts the cached part too (cached_input_tokens is a share of it, as in the API's usage), and
  // output_tokens the reasoning (reasoning_output_tokens is a share of it)
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
