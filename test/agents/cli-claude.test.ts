import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { AgentBudget } from '../../src/agents/agent.js';
import { createCommandAgent } from '../../src/agents/command-agent.js';
import { claudeAllowedTools, claudePreset } from '../../src/agents/presets/claude.js';
import { reply, startFakeMessagesApi, toolUse, type MessageStep } from '../support/fake-messages-api.js';
import { useCliFixture } from '../support/cli-sandbox.js';

/**
 * The `claude` preset with the real Claude Code CLI (the dev dependency's native binary) in the real
 * bubblewrap sandbox, its only network the app's allow-listing proxy, talking to the fake Messages API.
 */
const MODEL = 'claude-sonnet-5-5';
const KEY = 'sk-ant-test';
const budget: AgentBudget = { maxTurns: 6, maxCostUsd: 2, wallTimeMs: 25_000 };

const cli = useCliFixture({
  startApi: startFakeMessagesApi,
  task: 'Resolve issue #1: change hello to Hi in src/app.txt.',
  budget,
  commit: {
    files: {
      'check.sh': 'echo "check.sh says: $(cat src/app.txt), as $(id -un) in $(pwd)"\n',
      'other.sh': 'echo ran > other-ran.txt\necho "other.sh ran"\n',
    },
    message: 'Add the checks',
  },
});

function claudeAgent(allowedCommands: string[] = []) {
  return createCommandAgent({
    command: '',
    preset: 'claude',
    model: MODEL,
    passEnv: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
    env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: cli.api.url },
    sandbox: cli.sandbox,
    hosts: [new URL(cli.api.url).host],
    gitEnv: cli.git.gitEnv,
    allowedCommands,
  });
}

/** The tool_result the CLI sent back for `id`, from the first request that carries it. */
function toolResult(id: string): { content: string; is_error?: boolean } {
  for (const r of cli.api.requests) {
    for (const message of r.body?.messages ?? []) {
      if (!Array.isArray(message.content)) continue;
      const block = message.content.find((b: any) => b.type === 'tool_result' && b.tool_use_id === id);
      if (block) {
        const content = typeof block.content === 'string' ? block.content : block.content.map((b: any) => b.text ?? '').join('');
        return { content, is_error: block.is_error };
      }
    }
  }
  throw new Error(`no tool_result for ${id} in ${cli.api.requests.length} request(s)`);
}

/** A reply with exactly this usage (the cache write's breakdown made to agree with its total). */
function usageOf(step: MessageStep, usage: { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number; output_tokens: number }): MessageStep {
  return {
    ...step,
    usage: { ...usage, cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 } },
  };
}

const head = () => cli.git.git(cli.worktree, 'rev-parse', 'HEAD');
const status = () => cli.git.git(cli.worktree, 'status', '--porcelain');

describe('claude preset with the real Claude Code CLI in the sandbox', () => {
  it('edits the file with its Edit tool and ends with the final text: changed, nothing committed', async () => {
    const file = path.join(cli.worktree, 'src/app.txt');
    cli.api.script([
      reply('I will change the greeting.', toolUse('Edit', { file_path: file, old_string: 'hello', new_string: 'Hi' }, 'toolu_edit')),
      reply('Changed hello to Hi in src/app.txt.'),
    ]);
    const before = await head();

    const result = await claudeAgent().run(cli.request());

    expect(result.summary).toBe('Changed hello to Hi in src/app.txt.');
    expect(result.outcome).toBe('changed');
    expect(await readFile(file, 'utf8')).toBe('Hi\n');
    expect(await head()).toBe(before);
    expect(await status()).toBe('M src/app.txt');

    // every request was a Messages request to the fake, with the key, the model and the edit tool
    const sent = cli.api.requests;
    expect(sent.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(['POST /v1/messages', 'POST /v1/messages']);
    for (const r of sent) {
      expect(r.headers['x-api-key']).toBe(KEY);
      expect(r.body.model).toBe(MODEL);
      expect(r.body.stream).toBe(true);
      expect(r.body.tools.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['Edit', 'Write', 'Read', 'Bash']));
    }
    expect(JSON.stringify(sent[0]!.body.messages)).toContain('Resolve issue #1: change hello to Hi in src/app.txt.');
    expect(toolResult('toolu_edit')).toMatchObject({ content: expect.stringContaining('updated successfully') });
    // and it tried to reach nothing else (no telemetry, no update check)
    expect(cli.refused).toEqual([]);
  });

  it('reads turns, tokens and cost from the result', async () => {
    const file = path.join(cli.worktree, 'src/app.txt');
    cli.api.script([
      usageOf(reply(toolUse('Edit', { file_path: file, old_string: 'hello', new_string: 'Hi' })), {
        input_tokens: 1000, cache_creation_input_tokens: 300, cache_read_input_tokens: 200, output_tokens: 50,
      }),
      usageOf(reply('Done.'), { input_tokens: 400, cache_creation_input_tokens: 0, cache_read_input_tokens: 1500, output_tokens: 30 }),
    ]);

    const result = await claudeAgent().run(cli.request());

    expect(result.outcome).toBe('changed');
    expect(result.usage).toMatchObject({ turns: 2, inputTokens: 3400, outputTokens: 80, cacheReadTokens: 1700 });
    expect(result.usage.costUsd).toBeGreaterThan(0);
  });

  it('counts the last request too when it stops at its cost limit', async () => {
    const file = path.join(cli.worktree, 'src/app.txt');
    cli.api.script([
      usageOf(reply(toolUse('Edit', { file_path: file, old_string: 'hello', new_string: 'Hey' })), {
        input_tokens: 1000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 10,
      }),
      // this reply takes the run past its limit: Claude Code stops, and its `usage` leaves this request out
      usageOf(reply(toolUse('Edit', { file_path: file, old_string: 'Hey', new_string: 'Hi' })), {
        input_tokens: 100_000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1000,
      }),
      reply('Done.'),
    ]);

    const result = await claudeAgent().run(cli.request({ budget: { ...budget, maxCostUsd: 0.05 } }));

    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('cost limit');
    expect(cli.api.requests).toHaveLength(2);
    expect(result.usage).toMatchObject({ turns: 2, inputTokens: 101_000, outputTokens: 1010 });
    expect(result.usage.costUsd).toBeGreaterThan(0.05);
  });

  it('runs a command on map.allowedCommands and is refused one that is not', async () => {
    cli.api.script([
      reply(toolUse('Bash', { command: 'sh check.sh', description: 'Run the check' }, 'toolu_allowed')),
      reply(toolUse('Bash', { command: 'sh other.sh', description: 'Run the other script' }, 'toolu_denied')),
      reply('Checked; nothing to change.'),
    ]);

    const result = await claudeAgent(['sh check.sh']).run(cli.request());

    expect(toolResult('toolu_allowed')).toMatchObject({ content: `check.sh says: hello, as agent in ${cli.worktree}`, is_error: false });
    const denied = toolResult('toolu_denied');
    expect(denied.is_error).toBe(true);
    expect(denied.content).not.toContain('other.sh ran');
    expect(existsSync(path.join(cli.worktree, 'other-ran.txt'))).toBe(false);
    expect(result.outcome).toBe('no-change');
    // the refused command is named in the summary, for the maintainers to add it if it was needed
    expect(result.summary).toBe('Checked; nothing to change.\n\n'
      + 'Refused to the agent (the commands it may run are those of `map.allowedCommands`): Bash `sh other.sh`.');
  });

  it('allows arguments after an entry ending in " *", but not a command chained to it', async () => {
    cli.api.script([
      reply(toolUse('Bash', { command: 'sh check.sh --verbose', description: 'Run the check' }, 'toolu_args')),
      reply(toolUse('Bash', { command: 'sh check.sh; sh other.sh', description: 'Run both' }, 'toolu_chained')),
      reply(toolUse('Bash', { command: 'sh check.shx', description: 'Not the check' }, 'toolu_longer')),
      reply('Checked.'),
    ]);

    await claudeAgent(['sh check.sh *']).run(cli.request());

    expect(toolResult('toolu_args')).toMatchObject({ content: expect.stringContaining('check.sh says: hello'), is_error: false });
    expect(toolResult('toolu_chained')).toMatchObject({ is_error: true });
    expect(toolResult('toolu_longer')).toMatchObject({ is_error: true });
    expect(existsSync(path.join(cli.worktree, 'other-ran.txt'))).toBe(false);
  });
});

describe('claude preset command line', () => {
  it('maps map.allowedCommands to --allowedTools rules, never wider than the entry', () => {
    expect(claudeAllowedTools(['npm test', 'npm run lint *', '  make  ', '', 'ls *.txt', 'npm test'])).toEqual([
      'Bash(npm test)', 'Bash(npm run lint:*)', 'Bash(make)', 'Bash(ls \\*.txt)',
    ]);
    const line = claudePreset.commandLine({ budget, allowedCommands: ["echo 'it''s'", 'npm test *'], stateDir: '/tmp/state' });
    expect(line).toContain(`--allowedTools 'Bash(echo '\\''it'\\'''\\''s'\\'')' 'Bash(npm test:*)'`);
    expect(claudePreset.commandLine({ budget, allowedCommands: [], stateDir: '/tmp/state' })).not.toContain('--allowedTools');
  });
});
