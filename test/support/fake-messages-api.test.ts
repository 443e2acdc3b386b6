import { afterEach, describe, expect, it } from '@jest/globals';
import Anthropic from '@anthropic-ai/sdk';
import { betaZodTool } from '@anthropic-ai/sdk/helpers/beta/zod';
import { z } from 'zod';
import {
  apiError,
  reply,
  startFakeMessagesApi,
  text,
  toolUse,
  type FakeMessagesApi,
  type RecordedRequest,
} from './fake-messages-api.js';

const MODEL = 'claude-sonnet-fake';

let api: FakeMessagesApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(...args: Parameters<typeof startFakeMessagesApi>) {
  api = await startFakeMessagesApi(...args);
  return { api, client: new Anthropic({ apiKey: 'test-key', baseURL: api.url }) };
}

function readFileTool(calls: Array<{ path: string }>, fail = false) {
  return betaZodTool({
    name: 'read_file',
    description: 'Read a file of the repository',
    inputSchema: z.object({ path: z.string() }),
    run: async ({ path }) => {
      calls.push({ path });
      if (fail) throw new Error(`no such file: ${path}`);
      return `contents of ${path}`;
    },
  });
}

const messagesOf = (request: RecordedRequest) => request.body.messages as Array<{ role: string; content: any }>;

describe('fake Messages API', () => {
  it('answers messages.create with the scripted text and usage, and records the request', async () => {
    const { api, client } = await start({ steps: [reply(text('Hello from the fake'))] });

    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Say hello' }],
    });

    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the fake', citations: null }]);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'end_turn', stop_sequence: null });
    expect(message.id).toMatch(/^msg_01\w{22}$/);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(message.usage.cache_read_input_tokens).toBe(0);
    expect(message.usage.cache_creation_input_tokens).toBe(0);

    expect(api.requests).toHaveLength(1);
    const [request] = api.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/messages' });
    // SDK 1.12 sends the API key as a bearer token, not as x-api-key.
    expect(request!.headers['authorization']).toBe('Bearer test-key');
    expect(request!.headers['anthropic-version']).toBeDefined();
    expect(request!.body).toMatchObject({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello' }] });
    expect(api.pending).toBe(0);
  });

  it('takes scripted usage over the estimate', async () => {
    const { client } = await start({ steps: [{ kind: 'message', content: [text('hi')], stopReason: 'max_tokens', usage: { input_tokens: 1234, output_tokens: 5 } }] });
    const message = await client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage).toMatchObject({ input_tokens: 1234, output_tokens: 5, cache_read_input_tokens: 0 });
  });

  it('runs a tool_use → tool_result round trip through the tool runner with thread: false', async () => {
    const { api, client } = await start({
      steps: [reply(text('Let me look.'), toolUse('read_file', { path: 'src/index.ts' }, 'toolu_01abc')), reply(text('It exports main.'))],
    });
    const calls: Array<{ path: string }> = [];

    const runner = client.beta.messages.toolRunner({
      model: MODEL,
      max_tokens: 1024,
      system: 'You are a careful reviewer.',
      messages: [{ role: 'user', content: 'What does src/index.ts export?' }],
      tools: [readFileTool(calls)],
      thread: false,
      max_iterations: 5,
    });
    const turns: Anthropic.Beta.BetaMessage[] = [];
    for await (const message of runner) turns.push(message);
    const final = await runner.done();

    expect(calls).toEqual([{ path: 'src/index.ts' }]);
    expect(turns.map((m) => m.stop_reason)).toEqual(['tool_use', 'end_turn']);
    expect(final.content).toEqual([{ type: 'text', text: 'It exports main.', citations: null }]);

    expect(api.requests).toHaveLength(2);
    const [first, second] = api.requests;
    expect(first!.body.thread).toBeUndefined();
    expect(first!.body.stream).toBe(false);
    expect(first!.body.tools).toEqual([
      expect.objectContaining({ type: 'custom', name: 'read_file', description: 'Read a file of the repository', input_schema: expect.objectContaining({ type: 'object' }) }),
    ]);
    expect(first!.body.tools[0]).not.toHaveProperty('run');
    // thread: false sends the full history every turn.
    expect(second!.body.system).toBe('You are a careful reviewer.');
    expect(messagesOf(second!)).toEqual([
      { role: 'user', content: 'What does src/index.ts export?' },
      { role: 'assistant', content: turns[0]!.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01abc', content: 'contents of src/index.ts' }] },
    ]);
    // Usage is per turn, and the second turn's prompt is bigger.
    expect(turns[1]!.usage.input_tokens).toBeGreaterThan(turns[0]!.usage.input_tokens);
  });

  it('sends a thrown tool error back as an is_error tool_result', async () => {
    const { api, client } = await start({ steps: [reply(toolUse('read_file', { path: 'missing.ts' })), reply('Sorry, it does not exist.')] });
    const calls: Array<{ path: string }> = [];
    const final = await client.beta.messages.toolRunner({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Read missing.ts' }],
      tools: [readFileTool(calls, true)],
      thread: false,
    });

    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Sorry, it does not exist.' });
    const toolResult = messagesOf(api.requests[1]!).at(-1)!.content[0];
    expect(toolResult).toMatchObject({ type: 'tool_result', is_error: true, content: 'Error: no such file: missing.ts' });
  });

  it('stops the tool runner at max_iterations', async () => {
    const { api, client } = await start({ steps: [reply(toolUse('read_file', { path: 'a.ts' })), reply('unused')] });
    const final = await client.beta.messages.toolRunner({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'go' }],
      tools: [readFileTool([])],
      thread: false,
      max_iterations: 1,
    });
    expect(final.stop_reason).toBe('tool_use');
    expect(api.requests).toHaveLength(1);
    expect(api.pending).toBe(1);
  });

  it('serves a threaded tool runner (the default): create, then continue with only the new messages', async () => {
    const { api, client } = await start({ steps: [reply(toolUse('read_file', { path: 'a.ts' }, 'toolu_01thr')), reply('done')] });
    const runner = client.beta.messages.toolRunner({
      model: MODEL,
      max_tokens: 1024,
      system: 'sys',
      messages: [{ role: 'user', content: 'read a.ts' }],
      tools: [readFileTool([])],
    });
    const turns: Anthropic.Beta.BetaMessage[] = [];
    for await (const message of runner) turns.push(message);

    const [first, second] = api.requests;
    expect(first!.body.thread).toEqual({ type: 'create' });
    expect(String(first!.headers['anthropic-beta'])).toContain('message-threads-2026-08-12');
    expect(second!.body.thread).toEqual({ type: 'continue', previous_message_id: turns[0]!.id });
    expect(second!.body.system).toBeUndefined();
    expect(second!.body.tools).toBeUndefined();
    expect(messagesOf(second!)).toEqual([
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01thr', content: 'contents of a.ts' }] },
    ]);
    // The fake counts a continued thread against the conversation it recorded.
    expect(turns[1]!.usage.input_tokens).toBeGreaterThan(turns[0]!.usage.input_tokens);
  });

  it('streams replies as server-sent events for a streaming tool runner', async () => {
    const longText = 'This reply is long enough to arrive in several text deltas.';
    const { api, client } = await start({ steps: [reply(toolUse('read_file', { path: 'some/deeply/nested/file.ts' })), reply(longText)] });
    const calls: Array<{ path: string }> = [];
    const runner = client.beta.messages.toolRunner({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'read it' }],
      tools: [readFileTool(calls)],
      thread: false,
      stream: true,
    });
    const deltas: string[] = [];
    for await (const stream of runner) {
      stream.on('text', (delta) => deltas.push(delta));
      await stream.finalMessage();
    }
    const final = await runner.done();

    expect(calls).toEqual([{ path: 'some/deeply/nested/file.ts' }]);
    expect(final.content).toEqual([{ type: 'text', text: longText, citations: null }]);
    expect(final.usage.output_tokens).toBeGreaterThan(1);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(longText);
    expect(api.requests.map((r) => r.body.stream)).toEqual([true, true]);
    expect(messagesOf(api.requests[1]!).at(-1)!.content[0]).toMatchObject({ type: 'tool_result', content: 'contents of some/deeply/nested/file.ts' });
  });

  it('simulates prompt caching for a top-level cache_control', async () => {
    const { client } = await start({ steps: [reply(toolUse('read_file', { path: 'a.ts' })), reply('done')] });
    const runner = client.beta.messages.toolRunner({
      model: MODEL,
      max_tokens: 1024,
      system: 'A long system prompt. '.repeat(50),
      cache_control: { type: 'ephemeral' },
      messages: [{ role: 'user', content: 'read a.ts' }],
      tools: [readFileTool([])],
      thread: false,
    });
    const turns: Anthropic.Beta.BetaMessage[] = [];
    for await (const message of runner) turns.push(message);

    const [first, second] = turns.map((t) => t.usage);
    expect(first!.cache_read_input_tokens).toBe(0);
    expect(first!.cache_creation_input_tokens).toBeGreaterThan(250);
    expect(second!.cache_read_input_tokens).toBe(first!.cache_creation_input_tokens! + first!.input_tokens);
    expect(second!.cache_creation_input_tokens).toBeGreaterThan(0);
  });

  it('lets the SDK retry a 429 with retry-after: 0, and records both requests', async () => {
    const { api, client } = await start({
      steps: [apiError(429, { headers: { 'retry-after': '0' }, message: 'slow down' }), reply(text('after retry'))],
    });
    const message = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });

    expect(message.content[0]).toMatchObject({ type: 'text', text: 'after retry' });
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1]!.body).toEqual(api.requests[0]!.body);
    expect(api.requests[1]!.headers['x-stainless-retry-count']).toBe('1');
  });

  it('surfaces a scripted error the SDK does not retry', async () => {
    const { client } = await start({ steps: [apiError(400, { message: 'prompt is too long' })] });
    const error = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long' } });
  });

  it('answers an exhausted script with a 500 the SDK surfaces without retrying', async () => {
    const { api, client } = await start({ steps: [reply('only one')] });
    await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'one' }] });
    const error = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'two' }] }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as Error).message).toMatch(/script exhausted: 2 message request\(s\) came but only 1 step\(s\) were scripted/);
    expect(api.requests).toHaveLength(2);
  });

  it('repeats the last step with onExhausted: repeat-last, and computes steps from the request', async () => {
    const { api, client } = await start({
      onExhausted: 'repeat-last',
      steps: [(request) => reply(`you said ${request.body.messages.at(-1).content}`)],
    });
    const answers: unknown[] = [];
    for (const content of ['a', 'b', 'c']) {
      const message = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content }] });
      answers.push(message.content[0]);
    }
    expect(answers).toEqual(['a', 'b', 'c'].map((c) => text(`you said ${c}`)));
    expect(api.requests).toHaveLength(3);

    api.script([reply('rescripted')]);
    const message = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'd' }] });
    expect(message.content[0]).toEqual(text('rescripted'));
  });
});
