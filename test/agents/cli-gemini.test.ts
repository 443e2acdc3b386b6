import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { AgentBudget } from '../../src/agents/agent.js';
import { createCommandAgent } from '../../src/agents/command-agent.js';
import { parseGeminiOutput } from '../../src/agents/presets/gemini.js';
import { apiError, functionCall, reply, startFakeGeminiApi, type RecordedRequest } from '../support/fake-gemini-api.js';
import { useCliFixture } from '../support/cli-sandbox.js';

/**
 * The `gemini` preset with the real Gemini CLI (the dev dependency, a node script) in the real
 * bubblewrap sandbox, its only network the app's allow-listing proxy, talking to the fake Gemini API.
 */
const MODEL = 'gemini-2.5-pro';
const KEY = 'gemini-test-key-0123';
const budget: AgentBudget = { maxTurns: 8, maxCostUsd: 2, wallTimeMs: 25_000 };

const cli = useCliFixture({
  startApi: startFakeGeminiApi,
  task: 'Resolve issue #1: say Hi instead of hello in src/app.txt.',
  budget,
  commit: {
    files: {
      'check.sh': 'echo "check.sh says: $(cat src/app.txt), as $(id -un)"\n',
      'other.sh': 'echo ran > other-ran.txt\n',
    },
    message: 'Add the checks',
  },
});

function geminiAgent(options: { model?: string | null; allowedCommands?: string[] } = {}) {
  const model = options.model === undefined ? MODEL : options.model;
  return createCommandAgent({
    command: '',
    preset: 'gemini',
    ...(model ? { model } : {}),
    passEnv: ['GEMINI_API_KEY', 'GOOGLE_GEMINI_BASE_URL'],
    env: { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: cli.api.url },
    sandbox: cli.sandbox,
    hosts: [`127.0.0.1:${cli.api.port}`],
    gitEnv: cli.git.gitEnv,
    allowedCommands: options.allowedCommands ?? [],
  });
}

const routes = () => cli.api.requests.map((r) => `${r.method} ${r.path}`);
const toolNames = (r: RecordedRequest): string[] => (r.body.tools ?? []).flatMap((t: any) => (t.functionDeclarations ?? []).map((f: any) => f.name));

/** The response of the `nth` call to `name` the CLI sent back (told apart by id, as later requests repeat them). */
function functionResponse(name: string, nth = 0): Record<string, unknown> {
  const found: Array<Record<string, unknown>> = [];
  for (const r of cli.api.requests) {
    for (const content of r.body?.contents ?? []) {
      for (const part of content.parts ?? []) {
        if (part.functionResponse?.name === name && !found.some((f) => f.id === part.functionResponse.id)) found.push(part.functionResponse);
      }
    }
  }
  const response = found[nth];
  if (!response) throw new Error(`no functionResponse #${nth} for ${name} in ${cli.api.requests.length} request(s)`);
  return response.response as Record<string, unknown>;
}

const head = () => cli.git.git(cli.worktree, 'rev-parse', 'HEAD');
const status = () => cli.git.git(cli.worktree, 'status', '--porcelain');

describe('gemini preset with the real Gemini CLI in the sandbox', () => {
  it('edits the file with its replace tool and ends with the final text: changed, nothing committed', async () => {
    cli.api.script([
      reply('I will change the greeting.', functionCall('replace', {
        file_path: 'src/app.txt', instruction: 'Say Hi instead of hello.', old_string: 'hello', new_string: 'Hi',
      })),
      reply('Changed hello to Hi in src/app.txt.'),
    ]);
    const before = await head();

    const result = await geminiAgent().run(cli.request());

    expect(result.summary).toBe('Changed hello to Hi in src/app.txt.');
    expect(result.outcome).toBe('changed');
    expect(await readFile(path.join(cli.worktree, 'src/app.txt'), 'utf8')).toBe('Hi\n');
    expect(await head()).toBe(before);
    expect(await status()).toBe('M src/app.txt');

    // two streamed model turns to the fake, nothing else: with a model given there is no routing call
    expect(routes()).toEqual([
      `POST /v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
      `POST /v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
    ]);
    for (const r of cli.api.requests) {
      expect(r.headers['x-goog-api-key']).toBe(KEY);
      expect(toolNames(r)).toEqual(expect.arrayContaining(['replace', 'write_file', 'read_file']));
      // auto_edit offers no shell when no command is allowed
      expect(toolNames(r)).not.toContain('run_shell_command');
    }
    const [first, second] = cli.api.requests;
    expect(JSON.stringify(first!.body.contents)).toContain('Resolve issue #1: say Hi instead of hello in src/app.txt.');
    expect(JSON.stringify(first!.body.contents)).toContain('Do not commit');
    expect(second!.body.contents.at(-2).parts).toContainEqual(expect.objectContaining({
      functionCall: expect.objectContaining({ name: 'replace' }),
    }));
    expect(functionResponse('replace').output).toEqual(expect.stringContaining('Successfully modified file'));
    // and it tried to reach nothing else (no usage statistics, no update check)
    expect(cli.refused).toEqual([]);
  });

  it('reads turns and tokens from the stream-json result, thinking counted as output', async () => {
    cli.api.script([
      { ...reply(functionCall('write_file', { file_path: 'src/app.txt', content: 'Hi\n' })),
        usage: { promptTokenCount: 1000, candidatesTokenCount: 40, cachedContentTokenCount: 600, thoughtsTokenCount: 25 } },
      { ...reply('Wrote Hi to src/app.txt.'), usage: { promptTokenCount: 1100, candidatesTokenCount: 10, cachedContentTokenCount: 1000 } },
    ]);

    const result = await geminiAgent().run(cli.request());

    expect(result).toMatchObject({ outcome: 'changed', summary: 'Wrote Hi to src/app.txt.' });
    expect(result.usage).toMatchObject({ turns: 2, inputTokens: 2100, outputTokens: 75, cacheReadTokens: 1600, costUsd: 0 });
    expect(functionResponse('write_file').output).toEqual(expect.stringContaining('src/app.txt'));
    expect(await readFile(path.join(cli.worktree, 'src/app.txt'), 'utf8')).toBe('Hi\n');
  });

  it('without a model, answers the router\'s JSON question first; the turns go to the model it picked', async () => {
    cli.api.script([
      reply(functionCall('replace', { file_path: 'src/app.txt', instruction: 'Say Hi.', old_string: 'hello', new_string: 'Hi' })),
      reply('Done: Hi.'),
    ]);

    const result = await geminiAgent({ model: null }).run(cli.request());

    expect(result).toMatchObject({ outcome: 'changed', summary: 'Done: Hi.' });
    const [routing, ...turns] = cli.api.requests;
    expect(routing!.path).toMatch(/^\/v1beta\/models\/[\w.-]+:generateContent$/);
    expect(routing!.body.generationConfig.responseJsonSchema.required).toEqual(['complexity_reasoning', 'complexity_score']);
    expect(turns).toHaveLength(2);
    for (const turn of turns) expect(turn.path).toMatch(/^\/v1beta\/models\/gemini-[\w.-]+:streamGenerateContent\?alt=sse$/);
    expect(cli.refused).toEqual([]);
  });

  it('is failed with the API\'s reason when the API refuses the key', async () => {
    cli.api.script([apiError(400, { message: 'API key not valid. Please pass a valid API key.' })]);

    const result = await geminiAgent().run(cli.request());

    expect(result.outcome).toBe('failed');
    expect(result.summary).toBe('The agent reported a failure: API error 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.');
    expect(routes()).toEqual([`POST /v1beta/models/${MODEL}:streamGenerateContent?alt=sse`]);
    expect(await status()).toBe('');
  });

  it('is failed when the budget\'s turns run out, after the edit it made', async () => {
    cli.api.script([
      reply(functionCall('replace', { file_path: 'src/app.txt', instruction: 'Say Hi.', old_string: 'hello', new_string: 'Hi' })),
      reply('never asked for'),
    ]);

    const result = await geminiAgent().run(cli.request({ budget: { ...budget, maxTurns: 1 } }));

    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('limit of turns');
    expect(cli.api.requests).toHaveLength(1);
    expect(cli.api.pending).toBe(1);
    expect(await status()).toBe('M src/app.txt');
  });

  it('runs exactly the allowed commands in its shell, as the sandbox user; others are denied by its policy', async () => {
    cli.api.script([
      reply(functionCall('run_shell_command', { command: 'sh check.sh', description: 'Run the check.' })),
      reply(functionCall('run_shell_command', { command: 'git log --format=%s -1', description: 'A ` *` entry takes arguments.' })),
      reply(functionCall('run_shell_command', { command: 'sh check.sh --verbose', description: 'An exact entry takes none.' })),
      reply(functionCall('run_shell_command', { command: 'sh other.sh', description: 'Not on the list.' })),
      reply(functionCall('run_shell_command', { command: 'git log -1; sh other.sh', description: 'Chained.' })),
      reply(functionCall('run_shell_command', { command: 'sh other.sh sh check.sh', description: 'Ends like an allowed one.' })),
      reply('Checked; nothing to change.'),
    ]);

    const result = await geminiAgent({ allowedCommands: ['sh check.sh', 'git log *'] }).run(cli.request());

    expect(result).toMatchObject({ outcome: 'no-change', summary: 'Checked; nothing to change.', usage: { turns: 7 } });
    expect(toolNames(cli.api.requests[0]!)).toContain('run_shell_command');
    expect(functionResponse('run_shell_command', 0).output).toEqual(expect.stringContaining('check.sh says: hello, as agent'));
    expect(functionResponse('run_shell_command', 1).output).toEqual(expect.stringContaining('Add the checks'));
    for (const denied of [2, 3, 4, 5]) {
      expect(JSON.stringify(functionResponse('run_shell_command', denied))).toContain('denied by policy');
    }
    expect(existsSync(path.join(cli.worktree, 'other-ran.txt'))).toBe(false);
    expect(await status()).toBe('');
  });
});

describe('parseGeminiOutput', () => {
  const line = (event: Record<string, unknown>) => JSON.stringify({ timestamp: '2026-01-01T00:00:00.000Z', ...event });
  const stats = { total_tokens: 130, input_tokens: 100, output_tokens: 20, cached: 40, input: 60, duration_ms: 5, tool_calls: 1, models: {} };

  it('takes the last turn\'s text as the summary, among the CLI\'s warnings on stderr', () => {
    const output = [
      'Ripgrep is not available. Falling back to GrepTool.',
      line({ type: 'init', session_id: 's', model: 'gemini-2.5-pro' }),
      line({ type: 'message', role: 'user', content: 'the task' }),
      line({ type: 'message', role: 'assistant', content: 'I will edit ', delta: true }),
      line({ type: 'message', role: 'assistant', content: 'the file.', delta: true }),
      line({ type: 'tool_use', tool_name: 'replace', tool_id: 't1', parameters: {} }),
      line({ type: 'tool_result', tool_id: 't1', status: 'success' }),
      line({ type: 'message', role: 'assistant', content: 'Changed hello ', delta: true }),
      '[STARTUP] Cannot measure phase',
      line({ type: 'message', role: 'assistant', content: 'to Hi.', delta: true }),
      line({ type: 'result', status: 'success', stats }),
    ].join('\n');
    expect(parseGeminiOutput(output)).toEqual({
      status: 'success', message: 'Changed hello to Hi.', usage: { turns: 2, inputTokens: 100, outputTokens: 30, cacheReadTokens: 40 },
    });
  });

  it('is an error with the error line\'s reason when the result says error without one (an invalid stream)', () => {
    const output = [
      line({ type: 'error', severity: 'warning', message: 'Loop detected, stopping execution' }),
      line({ type: 'error', severity: 'error', message: 'Model stream ended with an invalid chunk or missing finish reason.' }),
      line({ type: 'result', status: 'error', stats }),
    ].join('\n');
    expect(parseGeminiOutput(output)).toMatchObject({ status: 'error', message: 'Model stream ended with an invalid chunk or missing finish reason.' });
  });

  it('is unknown without a result line, keeping what the model said', () => {
    const output = [line({ type: 'message', role: 'assistant', content: 'Half a thought', delta: true }), 'Killed'].join('\n');
    expect(parseGeminiOutput(output)).toEqual({ status: 'unknown', message: 'Half a thought', usage: { turns: 1 } });
    expect(parseGeminiOutput('Invalid auth method selected.\n')).toEqual({ status: 'unknown', usage: {} });
  });
});
