/**
 * A scripted stand-in for the Anthropic Messages API, served over real HTTP on 127.0.0.1 so that the real
 * `@anthropic-ai/sdk` client talks to it unchanged:
 *
 *   const api = await startFakeMessagesApi({ steps: [reply(toolUse('read_file', { path: 'a.ts' })), reply(text('done'))] });
 *   const client = new Anthropic({ apiKey: 'test-key', baseURL: api.url });
 *   ...
 *   expect(api.requests[1]!.body.messages.at(-1).content[0].type).toBe('tool_result');
 *   await api.close();
 *
 * Every request is recorded in `requests` (JSON body parsed). Each `POST /v1/messages` takes the next scripted step:
 * a reply (JSON, or server-sent events when the request has `stream: true`), an HTTP error in the API's error shape,
 * or a function that computes one of those from the request. `POST /v1/messages/count_tokens` is answered from the
 * same token estimate and takes no step. Anything else is a 404.
 *
 * Usage is estimated at ~4 characters per token and prompt caching is simulated: a request with a cache breakpoint
 * (top-level `cache_control`, or `cache_control` on a tool, system block or content block) writes the prefix up to
 * each breakpoint, and a later request whose prompt starts with a written prefix reads it. There is no minimum
 * cacheable length and no expiry. Requests on a message thread (`thread: { type: 'continue', previous_message_id }`)
 * are counted against the conversation the fake recorded for that reply id.
 */
import type { ServerResponse } from 'node:http';
import { startScriptedHttpServer, type RecordedRequest, type Scripted } from './local-http-server.js';
import { createHash, randomBytes } from 'node:crypto';
import type { StopReason, TextBlock, ToolUseBlock, Usage } from '@anthropic-ai/sdk/resources/messages';

export type { RecordedRequest } from './local-http-server.js';

/** A text block as scripted: `citations` may be left out (it is sent as `null`). */
export type ScriptTextBlock = Omit<TextBlock, 'citations'> & { citations?: TextBlock['citations'] };
/** A tool_use block as scripted: `id` is generated and `caller` is `{ type: 'direct' }` unless given. */
export type ScriptToolUseBlock = Omit<ToolUseBlock, 'id' | 'caller'> & {
  id?: string;
  caller?: ToolUseBlock['caller'];
};

export interface MessageStep {
  kind: 'message';
  content: Array<TextBlock | ToolUseBlock | ScriptTextBlock | ScriptToolUseBlock>;
  /** Defaults to `tool_use` when the content has a tool_use block, `end_turn` otherwise */
  stopReason?: StopReason;
  /** Merged over the estimated usage */
  usage?: Partial<Usage>;
  /** The reply's `model`; defaults to the request's */
  model?: string;
  /** The reply's `id`; defaults to a generated `msg_01…` */
  id?: string;
}

export interface ErrorStep {
  kind: 'error';
  status: number;
  /** `error.type`; defaults from the status (429 `rate_limit_error`, 529 `overloaded_error`, …) */
  type?: string;
  message?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '0' }` or `{ 'x-should-retry': 'false' }` */
  headers?: Record<string, string>;
  /** `error.details`, e.g. `{ error_code: 'thread_not_found' }` */
  details?: Record<string, unknown>;
}

export type ScriptStep = Scripted<MessageStep | ErrorStep>;

export interface FakeMessagesApi {
  /** `http://127.0.0.1:<port>`: pass as the client's `baseURL` */
  url: string;
  /** Every request received, in order, including errors and ones that took no step */
  requests: RecordedRequest[];
  /** Replace the steps not yet taken with `steps` */
  script(steps: ScriptStep[]): void;
  /** How many scripted steps have not been taken yet */
  readonly pending: number;
  /** Stop listening and destroy every open connection */
  close(): Promise<void>;
}

export interface FakeMessagesApiOptions {
  steps?: ScriptStep[];
  /**
   * What a `POST /v1/messages` gets once the steps run out: `'error'` (default) answers 500 with
   * `x-should-retry: false`, so the SDK surfaces it at once; `'repeat-last'` takes the last step again.
   */
  onExhausted?: 'error' | 'repeat-last';
  /** Simulate prompt caching in the estimated usage (default `true`) */
  promptCaching?: boolean;
  /** How long each model turn takes before its answer (default 0): a model that thinks, for benchmarks */
  replyDelayMs?: number;
  /** Awaited before each turn's answer: a test holds an agent at work until it says so */
  beforeReply?: (request: RecordedRequest) => Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Builders

export function text(t: string): TextBlock {
  return { type: 'text', text: t, citations: null };
}

export function toolUse(name: string, input: object, id?: string): ToolUseBlock {
  return { type: 'tool_use', id: id ?? newId('toolu_01'), name, input, caller: { type: 'direct' } };
}

/** A reply with `blocks` (a string is a text block); `tool_use` if any block is a tool_use, else `end_turn`. */
export function reply(...blocks: Array<MessageStep['content'][number] | string>): MessageStep {
  const content = blocks.map((block) => (typeof block === 'string' ? text(block) : block));
  return {
    kind: 'message',
    content,
    stopReason: content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn',
  };
}

/** An HTTP error step, e.g. `apiError(429, { headers: { 'retry-after': '0' } })`. */
export function apiError(status: number, rest: Omit<ErrorStep, 'kind' | 'status'> = {}): ErrorStep {
  return { kind: 'error', status, ...rest };
}

// ---------------------------------------------------------------------------------------------------------------
// Server

export async function startFakeMessagesApi(options: FakeMessagesApiOptions = {}): Promise<FakeMessagesApi> {
  const caching = new PromptCache(options.promptCaching ?? true);
  return startScriptedHttpServer<MessageStep | ErrorStep>({
    steps: options.steps,
    onExhausted: options.onExhausted,
    describe,
    exhausted: (request, taken, requests) => ({
      kind: 'error',
      status: 500,
      type: 'api_error',
      message:
        `fake-messages-api: script exhausted: ${requests.filter((r) => isMessagesPath(r.path)).length} message request(s) `
        + `came but only ${taken} step(s) were scripted (this is ${describe(request)})`,
      headers: { 'x-should-retry': 'false' },
    }),
    async handle(request, res, take) {
      const pathname = request.path.split('?')[0];
      if (request.method === 'POST' && pathname === '/v1/messages/count_tokens') {
        const invalid = invalidBody(request.body, { needsMaxTokens: false });
        if (invalid) return sendError(res, { kind: 'error', status: 400, message: invalid });
        return sendJson(res, 200, { input_tokens: caching.measure(request.body).total });
      }
      if (request.method !== 'POST' || pathname !== '/v1/messages') {
        return sendError(res, {
          kind: 'error',
          status: 404,
          message: `fake-messages-api: no route for ${request.method} ${request.path}`,
          headers: { 'x-should-retry': 'false' },
        });
      }
      const invalid = invalidBody(request.body, { needsMaxTokens: true });
      if (invalid) return sendError(res, { kind: 'error', status: 400, message: invalid });

      const step = take();
      if (step.kind === 'error') return sendError(res, step);
      if (options.replyDelayMs) await new Promise((resolve) => setTimeout(resolve, options.replyDelayMs));
      await options.beforeReply?.(request);
      const message = buildMessage(step, request.body, caching);
      if (request.body.stream === true) return sendStream(res, message);
      return sendJson(res, 200, message);
    },
    onError(res, message) {
      sendError(res, { kind: 'error', status: 500, message: `fake-messages-api: ${message}`, headers: { 'x-should-retry': 'false' } });
    },
  });
}

function isMessagesPath(path: string): boolean {
  return path.split('?')[0] === '/v1/messages';
}

function describe(request: RecordedRequest): string {
  return `${request.method} ${request.path} with model ${JSON.stringify(request.body?.model)} and ${
    Array.isArray(request.body?.messages) ? request.body.messages.length : 0
  } message(s)`;
}

function invalidBody(body: any, { needsMaxTokens }: { needsMaxTokens: boolean }): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'request body must be a JSON object';
  if (typeof body.model !== 'string') return 'model: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  if (needsMaxTokens && typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Replies

type ReplyBlock = TextBlock | ToolUseBlock;

interface FakeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ReplyBlock[];
  stop_reason: StopReason;
  stop_sequence: null;
  stop_details: null;
  container: null;
  usage: Usage;
}

function buildMessage(step: MessageStep, body: any, caching: PromptCache): FakeMessage {
  const content: ReplyBlock[] = step.content.map((block) =>
    block.type === 'text' ?
      { ...block, citations: block.citations ?? null }
    : { ...block, id: block.id ?? newId('toolu_01'), caller: block.caller ?? { type: 'direct' } },
  );
  const id = step.id ?? newId('msg_01');
  const stopReason =
    step.stopReason ?? (content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const outputTokens = Math.max(1, estimateTokens(JSON.stringify(content)));
  const counted = caching.count(body, id, content);
  const usage: Usage = {
    input_tokens: counted.input,
    output_tokens: outputTokens,
    cache_creation_input_tokens: counted.creation,
    cache_read_input_tokens: counted.read,
    cache_creation: { ephemeral_5m_input_tokens: counted.creation5m, ephemeral_1h_input_tokens: counted.creation1h },
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: null,
    ...step.usage,
  };
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: step.model ?? body.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    usage,
  };
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': newId('req_01'),
    ...headers,
  });
  res.end(body);
}

const DEFAULT_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

function sendError(res: ServerResponse, step: ErrorStep) {
  const requestId = newId('req_01');
  const type = step.type ?? DEFAULT_ERROR_TYPES[step.status] ?? (step.status >= 500 ? 'api_error' : 'invalid_request_error');
  const error: Record<string, unknown> = { type, message: step.message ?? `fake-messages-api: scripted ${step.status} ${type}` };
  if (step.details) error['details'] = step.details;
  sendJson(res, step.status, { type: 'error', error, request_id: requestId }, { 'request-id': requestId, ...step.headers });
}

/** The reply as the API streams it: message_start, ping, each block's start/deltas/stop, message_delta, message_stop. */
function sendStream(res: ServerResponse, message: FakeMessage) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': newId('req_01'),
  });
  const send = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  const { usage } = message;
  send('message_start', {
    message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
  });
  send('ping', {});
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { index, content_block: { ...block, text: '' } });
      for (const piece of chunks(block.text, 16)) {
        send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      }
    } else {
      send('content_block_start', { index, content_block: { ...block, input: {} } });
      for (const piece of chunks(JSON.stringify(block.input ?? {}), 24)) {
        send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
    }
    send('content_block_stop', { index });
  });
  send('message_delta', {
    delta: { stop_reason: message.stop_reason, stop_sequence: null, stop_details: null, container: null },
    usage: {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      server_tool_use: null,
      output_tokens_details: null,
    },
  });
  send('message_stop', {});
  res.end();
}

function chunks(s: string, size: number): string[] {
  if (s === '') return [];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

const ID_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function newId(prefix: string): string {
  return prefix + Array.from(randomBytes(22), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Token estimate and prompt cache

function estimateTokens(s: string): number {
  return Math.ceil(s.length / 4);
}

/** One cacheable piece of a prompt: a tool, a system block, or a message's content block. */
interface Unit {
  /** Hash of the prompt up to and including this unit */
  prefix: string;
  tokens: number;
  /** The TTL of a cache breakpoint on this unit, if it has one */
  breakpoint?: '5m' | '1h' | undefined;
}

class PromptCache {
  /** Written prefixes: prefix hash → TTL */
  readonly #written = new Map<string, '5m' | '1h'>();
  /** The whole conversation (prompt plus reply) of each reply id, for threads that continue from it */
  readonly #conversations = new Map<string, Unit[]>();

  constructor(readonly enabled: boolean) {}

  /** The units of the prompt `body` sends, counting a thread it continues. */
  measure(body: any): { units: Unit[]; total: number } {
    const previous =
      body?.thread?.type === 'continue' ? this.#conversations.get(body.thread.previous_message_id) : undefined;
    const pieces: Array<{ value: unknown; ttl?: '5m' | '1h' | undefined }> = [];
    const add = (kind: string, value: unknown) => pieces.push({ value: [kind, withoutCacheControl(value)], ttl: ttlOf(value) });
    if (!previous) {
      for (const tool of asArray(body?.tools)) add('tool', tool);
      if (typeof body?.system === 'string') add('system', { type: 'text', text: body.system });
      else for (const block of asArray(body?.system)) add('system', block);
    }
    for (const message of asArray(body?.messages)) {
      if (typeof message?.content === 'string') add(message.role, { type: 'text', text: message.content });
      else for (const block of asArray(message?.content)) add(message?.role, block);
    }
    const topLevel = ttlOf(body);
    const base = previous ? previous.map(({ prefix, tokens }) => ({ prefix, tokens })) : [];
    let hash = base.at(-1)?.prefix ?? '';
    const units: Unit[] = [...base];
    for (const piece of pieces) {
      const json = JSON.stringify(piece.value);
      hash = createHash('sha256').update(hash).update('\n').update(json).digest('hex');
      units.push({ prefix: hash, tokens: Math.max(1, estimateTokens(json)), breakpoint: piece.ttl });
    }
    const last = units.at(-1);
    if (topLevel && last) last.breakpoint ??= topLevel;
    return { units, total: units.reduce((sum, unit) => sum + unit.tokens, 0) };
  }

  /** The usage split of the prompt `body`, writing its breakpoints; records the conversation under `replyId`. */
  count(body: any, replyId: string, content: ReplyBlock[]) {
    const { units, total } = this.measure(body);
    let read = 0;
    let creation5m = 0;
    let creation1h = 0;
    const lastBreakpoint = this.enabled ? units.findLastIndex((unit) => unit.breakpoint) : -1;
    if (lastBreakpoint >= 0) {
      let readEnd = -1;
      for (let i = lastBreakpoint; i >= 0; i--) {
        if (this.#written.has(units[i]!.prefix)) {
          readEnd = i;
          break;
        }
      }
      let tokens = 0;
      units.forEach((unit, i) => {
        tokens += unit.tokens;
        if (i === readEnd) read = tokens;
      });
      let ttl: '5m' | '1h' = '5m';
      for (let i = readEnd + 1; i <= lastBreakpoint; i++) {
        const unit = units[i]!;
        if (unit.breakpoint === '1h') ttl = '1h';
        if (ttl === '1h') creation1h += unit.tokens;
        else creation5m += unit.tokens;
      }
      for (const unit of units) if (unit.breakpoint) this.#written.set(unit.prefix, unit.breakpoint);
    }
    const creation = creation5m + creation1h;

    // The thread's stored conversation: this prompt and the reply, as the SDK sends it back.
    let hash = units.at(-1)?.prefix ?? '';
    const conversation = units.map(({ prefix, tokens }) => ({ prefix, tokens }));
    for (const block of content) {
      const json = JSON.stringify(['assistant', block]);
      hash = createHash('sha256').update(hash).update('\n').update(json).digest('hex');
      conversation.push({ prefix: hash, tokens: Math.max(1, estimateTokens(json)) });
    }
    this.#conversations.set(replyId, conversation);

    return { input: total - read - creation, read, creation, creation5m, creation1h };
  }
}

function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function ttlOf(value: any): '5m' | '1h' | undefined {
  const cc = value?.cache_control;
  if (!cc || typeof cc !== 'object') return undefined;
  return cc.ttl === '1h' ? '1h' : '5m';
}

/** `value` without `cache_control` at any depth, so a moved breakpoint doesn't change what a prefix is. */
function withoutCacheControl(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCacheControl);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'cache_control')
        .map(([key, v]) => [key, withoutCacheControl(v)]),
    );
  }
  return value;
}
