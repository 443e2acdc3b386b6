import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createCommandAgent } from '../../src/agents/command-agent.js';
import {
  apiError, customToolCall, functionCall, isResponsesCall, message, offeredTools, respond, startFakeOpenAiResponses, toolOutputs, userText,
  type RecordedRequest, type ScriptStep,
} from '../support/fake-openai-responses.js';
import { useCliFixture } from '../support/cli-sandbox.js';

/**
 * The real Codex CLI (`@openai/codex`, a dev dependency) run by the command agent's `codex` preset in the real
 * bubblewrap sandbox, against a local fake of the OpenAI Responses API that it reaches through the sandbox's
 * allow-listing proxy, as it would reach api.openai.com. The launcher (node_modules/.bin/codex, a node script)
 * and the native binary it starts are seen inside.
 */

const KEY = 'sk-test-codex-0123456789';
const PATCH = '*** Begin Patch\n*** Update File: src/app.txt\n@@\n-hello\n+Hi\n*** End Patch\n';

const cli = useCliFixture({
  startApi: startFakeOpenAiResponses,
  task: 'Resolve issue #1: say Hi instead of hello in src/app.txt.',
  budget: { maxTurns: 10, maxCostUsd: 1, wallTimeMs: 25_000 },
});

/** The agent as production builds it: the key and the base URL passed by name, the fake on the allow list. */
function codexAgent(options: { model?: string } = {}) {
  return createCommandAgent({
    command: '',
    preset: 'codex',
    passEnv: ['CODEX_API_KEY', 'OPENAI_BASE_URL'],
    env: { CODEX_API_KEY: KEY, OPENAI_BASE_URL: `${cli.api.url}/v1` },
    sandbox: cli.sandbox,
    hosts: [`127.0.0.1:${cli.api.port}`],
    gitEnv: cli.git.gitEnv,
    ...options,
  });
}

const appText = () => readFileSync(path.join(cli.worktree, 'src/app.txt'), 'utf8');
const calls = () => cli.api.requests.filter(isResponsesCall);
const paths = () => cli.api.requests.map((r) => `${r.method} ${r.path}`);

/** The text a tool output carries: a string, or the text parts of a content list. */
function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  return (Array.isArray(output) ? output : []).map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('');
}

function expectCodexRequest(r: RecordedRequest) {
  expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
  expect(r.headers.accept).toBe('text/event-stream');
  expect(r.headers.originator).toBe('codex_exec');
  expect(r.body).toMatchObject({ stream: true, store: false });
  expect(typeof r.body.model).toBe('string');
}

describe('codex preset with the real Codex CLI in the sandbox', () => {
  it('edits with apply_patch from its code-mode exec tool and ends changed, with the final message as summary', async () => {
    const head = await cli.git.git(cli.worktree, 'rev-parse', 'HEAD');
    cli.api.script([
      respond(customToolCall('exec', `const result = await tools.apply_patch(${JSON.stringify(PATCH)});\ntext(result);`, { namespace: 'functions', callId: 'call_patch' })),
      respond(message('Changed hello to Hi in src/app.txt.', 'final_answer')),
    ]);

    const result = await codexAgent().run(cli.request());

    expect(result.summary).toBe('Changed hello to Hi in src/app.txt.');
    expect(result.outcome).toBe('changed');
    expect(appText()).toBe('Hi\n');
    expect(await cli.git.git(cli.worktree, 'rev-parse', 'HEAD')).toBe(head);
    expect(await cli.git.git(cli.worktree, 'status', '--porcelain')).toBe('M src/app.txt');

    // a WebSocket attempt (answered 426, so it falls back at once), then one streamed POST per model turn
    expect(paths()).toEqual(['GET /v1/responses', 'POST /v1/responses', 'POST /v1/responses']);
    expect(cli.api.requests[0]!.headers.upgrade).toBe('websocket');
    expect(cli.api.pending).toBe(0);
    const [first, second] = calls();
    for (const r of [first!, second!]) expectCodexRequest(r);
    // the default model's code mode: one freeform `exec` tool running JavaScript with apply_patch among its tools
    const exec = offeredTools(first!).find((tool) => tool.name === 'exec');
    expect(exec).toMatchObject({ type: 'custom' });
    expect(exec!.description).toContain('apply_patch');
    expect(userText(first!)).toContain('say Hi instead of hello in src/app.txt');
    expect(userText(first!)).toContain('Do not commit');
    // the patch applied: the script's result comes back for the call
    const [output] = toolOutputs(second!);
    expect(output).toMatchObject({ type: 'custom_tool_call_output', call_id: 'call_patch' });
    expect(outputText(output!.output)).toContain('Script completed');
  }, 30_000);

  it('runs the model it is given, with apply_patch and exec_command as tools, and reads the usage', async () => {
    cli.api.script([
      { ...respond(customToolCall('apply_patch', PATCH, { callId: 'call_patch' })), usage: { input_tokens: 1000, cached_tokens: 200, output_tokens: 40, reasoning_tokens: 10 } },
      { ...respond(functionCall('exec_command', { cmd: 'cat src/app.txt' }, { callId: 'call_cat' })), usage: { input_tokens: 1100, cached_tokens: 900, output_tokens: 30 } },
      { ...respond(message('Replaced hello with Hi; `cat src/app.txt` prints Hi.')), usage: { input_tokens: 1200, cached_tokens: 1000, output_tokens: 20 } },
    ]);

    const result = await codexAgent({ model: 'gpt-5.5' }).run(cli.request());

    expect(result).toMatchObject({ outcome: 'changed', summary: 'Replaced hello with Hi; `cat src/app.txt` prints Hi.' });
    expect(appText()).toBe('Hi\n');
    // the turn's usage, summed over its three model calls; cached tokens are part of the input
    expect(result.usage).toMatchObject({ turns: 1, inputTokens: 3300, cacheReadTokens: 2100, outputTokens: 90, costUsd: 0 });

    const [first, second, third] = calls();
    expect(calls()).toHaveLength(3);
    for (const r of [first!, second!, third!]) {
      expectCodexRequest(r);
      expect(r.body.model).toBe('gpt-5.5');
    }
    expect(offeredTools(first!).map((tool) => tool.name)).toEqual(expect.arrayContaining(['apply_patch', 'exec_command']));
    expect(toolOutputs(second!).map((o) => o.call_id)).toEqual(['call_patch']);
    const cat = toolOutputs(third!).find((o) => o.call_id === 'call_cat');
    expect(cat).toMatchObject({ type: 'function_call_output' });
    expect(outputText(cat!.output)).toContain('Hi');
  }, 30_000);

  it('is failed with the API error when the key is refused, not no-change, and the key is not in the summary', async () => {
    const refused: ScriptStep = apiError(401, { code: 'invalid_api_key', message: `Incorrect API key provided: ${KEY}.` });
    cli.api.script(Array.from({ length: 10 }, () => refused));

    const result = await codexAgent().run(cli.request());

    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('The agent reported a failure: unexpected status 401 Unauthorized: Incorrect API key provided');
    expect(result.summary).not.toContain(KEY);
    expect(appText()).toBe('hello\n');
    // Codex retries a refused request before it gives up
    expect(calls().length).toBeGreaterThan(1);
    for (const r of calls()) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
  }, 30_000);
});
