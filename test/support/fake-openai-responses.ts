/**
 * A scripted stand-in for the OpenAI Responses API, served over real HTTP on 127.0.0.1 (a random port) so that
 * the real Codex CLI talks to it unchanged:
 *
 *   const api = await startFakeOpenAiResponses({ steps: [respond(functionCall('exec_command', { cmd: 'ls' })), respond(message('Done.'))] });
 *   // codex exec -c openai_base_url=${api.url}/v1 …, with CODEX_API_KEY set
 *   expect(api.requests.filter(isResponsesCall)[1]!.body.input.at(-1).type).toBe('function_call_output');
 *   await api.close();
 *
 * Every request is recorded in `requests` (headers as node:http gives them, JSON body parsed). Each
 * `POST /v1/responses` takes the next scripted step: a response (streamed as server-sent events when the request
 * has `stream: true`, the way Codex asks, otherwise one JSON object), an HTTP error in the API's error shape, a
 * stream that fails mid-way (`response.failed`), or a function that computes one of those from the request.
 * A WebSocket upgrade of `GET /v1/responses` (Codex tries the WebSocket transport first) is answered
 * `426 Upgrade Required`, after which Codex falls back to HTTP at once; it takes no step. Anything else is a 404.
 * Usage is the scripted one, or estimated at ~4 characters per token of the request's input and of the output.
 */
import type { ServerResponse } from 'node:http';
import { startScriptedHttpServer, type RecordedRequest, type Scripted } from './local-http-server.js';
import { randomBytes } from 'node:crypto';

export type { RecordedRequest } from './local-http-server.js';

/** An assistant message; `phase` is Codex's channel (`commentary` for progress, `final_answer` for the end). */
export interface MessageItem {
  type: 'message';
  id?: string;
  role?: 'assistant';
  phase?: 'commentary' | 'final_answer';
  content: Array<{ type: 'output_text'; text: string; annotations?: unknown[] }>;
}

/** A call of a JSON-schema tool; `arguments` is the JSON text of the arguments. */
export interface FunctionCallItem {
  type: 'function_call';
  id?: string;
  call_id?: string;
  name: string;
  /** The tool's namespace, for a tool the request declared inside a `namespace` tool */
  namespace?: string;
  arguments: string;
}

/** A call of a freeform (grammar) tool such as Codex's `apply_patch` or code-mode `exec`: `input` is raw text. */
export interface CustomToolCallItem {
  type: 'custom_tool_call';
  id?: string;
  call_id?: string;
  name: string;
  namespace?: string;
  input: string;
}

export interface ReasoningItem {
  type: 'reasoning';
  id?: string;
  summary: Array<{ type: 'summary_text'; text: string }>;
}

export type OutputItem = MessageItem | FunctionCallItem | CustomToolCallItem | ReasoningItem;

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseStep {
  kind: 'response';
  output: OutputItem[];
  /** Merged over the estimated usage (`total_tokens` is recomputed unless given) */
  usage?: { input_tokens?: number; cached_tokens?: number; output_tokens?: number; reasoning_tokens?: number; total_tokens?: number };
  /** The response's `id`; defaults to a generated `resp_…` */
  id?: string;
  /** The response's `model`; defaults to the request's */
  model?: string;
}

export interface ErrorStep {
  kind: 'error';
  status: number;
  /** `error.type`; defaults from the status (401 `invalid_request_error`, 429 `rate_limit_exceeded`, 5xx `server_error`) */
  type?: string;
  /** `error.code`, e.g. `invalid_api_key` */
  code?: string;
  message?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '0' }` */
  headers?: Record<string, string>;
}

/** A 200 stream that ends in `response.failed` with this error, as the API does when generation fails. */
export interface FailedStep {
  kind: 'failed';
  code?: string;
  message?: string;
}

export type ScriptStep = Scripted<ResponseStep | ErrorStep | FailedStep>;

export interface FakeOpenAiResponses {
  /** `http://127.0.0.1:<port>`; the API's base URL is this plus `/v1` */
  url: string;
  port: number;
  /** Every request received, in order, including errors, WebSocket attempts and ones that took no step */
  requests: RecordedRequest[];
  /** Replace the steps not yet taken with `steps` */
  script(steps: ScriptStep[]): void;
  /** How many scripted steps have not been taken yet */
  readonly pending: number;
  /** Stop listening and destroy every open connection */
  close(): Promise<void>;
}

export interface FakeOpenAiResponsesOptions {
  steps?: ScriptStep[];
  /**
   * What a `POST /v1/responses` gets once the steps run out: `'error'` (default) answers 500 with a message saying
   * the script is exhausted; `'repeat-last'` takes the last step again.
   */
  onExhausted?: 'error' | 'repeat-last';
}

// ---------------------------------------------------------------------------------------------------------------
// Builders

/** An assistant message with one output_text part. */
export function message(text: string, phase?: MessageItem['phase']): MessageItem {
  return { type: 'message', role: 'assistant', ...(phase ? { phase } : {}), content: [{ type: 'output_text', text, annotations: [] }] };
}

/** A function call; `args` is sent as JSON text. */
export function functionCall(name: string, args: object, rest: { callId?: string; namespace?: string } = {}): FunctionCallItem {
  return {
    type: 'function_call', name, arguments: JSON.stringify(args),
    ...(rest.callId ? { call_id: rest.callId } : {}), ...(rest.namespace ? { namespace: rest.namespace } : {}),
  };
}

/** A freeform tool call, e.g. `customToolCall('apply_patch', '*** Begin Patch …')`. */
export function customToolCall(name: string, input: string, rest: { callId?: string; namespace?: string } = {}): CustomToolCallItem {
  return {
    type: 'custom_tool_call', name, input,
    ...(rest.callId ? { call_id: rest.callId } : {}), ...(rest.namespace ? { namespace: rest.namespace } : {}),
  };
}

/** A response with these output items (a string is an assistant message). */
export function respond(...items: Array<OutputItem | string>): ResponseStep {
  return { kind: 'response', output: items.map((item) => (typeof item === 'string' ? message(item) : item)) };
}

/** An HTTP error step, e.g. `apiError(401, { code: 'invalid_api_key' })`. */
export function apiError(status: number, rest: Omit<ErrorStep, 'kind' | 'status'> = {}): ErrorStep {
  return { kind: 'error', status, ...rest };
}

export function isResponsesCall(request: RecordedRequest): boolean {
  return request.method === 'POST' && request.path.split('?')[0] === '/v1/responses';
}

/**
 * The tools a request offers, at any depth: in `tools`, and in `additional_tools` input items (Codex's code
 * mode sends its tools there, grouped in `namespace` tools).
 */
export function offeredTools(request: RecordedRequest): Array<{ type: string; name?: string; description?: string }> {
  const found: Array<{ type: string; name?: string; description?: string }> = [];
  const walk = (tools: unknown) => {
    for (const tool of Array.isArray(tools) ? tools : []) {
      if (typeof tool !== 'object' || tool === null) continue;
      found.push(tool);
      walk((tool as { tools?: unknown }).tools);
    }
  };
  walk(request.body?.tools);
  for (const item of Array.isArray(request.body?.input) ? request.body.input : []) walk(item?.tools);
  return found;
}

/** The text of the request's user messages, joined by blank lines. */
export function userText(request: RecordedRequest): string {
  const input: any[] = Array.isArray(request.body?.input) ? request.body.input : [];
  return input
    .filter((item) => item?.type === 'message' && item.role === 'user')
    .flatMap((item) => (typeof item.content === 'string' ? [item.content] : (Array.isArray(item.content) ? item.content : []).map((part: any) => part?.text)))
    .filter((text): text is string => typeof text === 'string')
    .join('\n\n');
}

/** The tool outputs a request sends back (`function_call_output` and `custom_tool_call_output` items). */
export function toolOutputs(request: RecordedRequest): Array<{ type: string; call_id: string; output: unknown }> {
  const input: unknown[] = Array.isArray(request.body?.input) ? request.body.input : [];
  return input.filter((item: any) => item?.type === 'function_call_output' || item?.type === 'custom_tool_call_output') as any;
}

// ---------------------------------------------------------------------------------------------------------------
// Server

export async function startFakeOpenAiResponses(options: FakeOpenAiResponsesOptions = {}): Promise<FakeOpenAiResponses> {
  return startScriptedHttpServer<ResponseStep | ErrorStep | FailedStep>({
    steps: options.steps,
    onExhausted: options.onExhausted,
    describe,
    exhausted: (request, taken, requests) => apiError(500, {
      type: 'server_error',
      message: `fake-openai-responses: script exhausted: ${requests.filter(isResponsesCall).length} response request(s) came `
        + `but only ${taken} step(s) were scripted (this is ${describe(request)})`,
    }),
    handle(request, res, take) {
      const pathname = request.path.split('?')[0];
      if (request.method === 'GET' && pathname === '/v1/responses' && String(request.headers.upgrade ?? '').toLowerCase() === 'websocket') {
        res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
        res.end('fake-openai-responses: no WebSocket transport; use HTTP streaming\n');
        return;
      }
      if (!isResponsesCall(request)) {
        return sendError(res, apiError(404, { type: 'invalid_request_error', message: `fake-openai-responses: no route for ${request.method} ${request.path}` }));
      }
      const invalid = invalidBody(request.body);
      if (invalid) return sendError(res, apiError(400, { type: 'invalid_request_error', message: invalid }));

      const step = take();
      if (step.kind === 'error') return sendError(res, step);
      if (step.kind === 'failed') return sendFailedStream(res, request.body, step);
      const response = buildResponse(step, request.body);
      if (request.body.stream === true) return sendStream(res, response);
      return sendJson(res, 200, response);
    },
    onError(res, message) {
      sendError(res, apiError(500, { type: 'server_error', message: `fake-openai-responses: ${message}` }));
    },
  });
}

function describe(request: RecordedRequest): string {
  const input: unknown[] = Array.isArray(request.body?.input) ? request.body.input : [];
  return `${request.method} ${request.path} with model ${JSON.stringify(request.body?.model)} and ${input.length} input item(s)`;
}

function invalidBody(body: any): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'request body must be a JSON object';
  if (typeof body.model !== 'string') return "Missing required parameter: 'model'.";
  if (body.input === undefined) return "Missing required parameter: 'input'.";
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Replies

interface FakeResponse {
  id: string;
  object: 'response';
  created_at: number;
  status: 'completed';
  model: string;
  output: Array<Record<string, unknown>>;
  usage: ResponsesUsage;
}

function buildResponse(step: ResponseStep, body: any): FakeResponse {
  const output = step.output.map((item): Record<string, unknown> => {
    switch (item.type) {
      case 'message':
        return {
          ...item, id: item.id ?? newId('msg_'), role: 'assistant', status: 'completed',
          content: item.content.map((part) => ({ ...part, annotations: part.annotations ?? [] })),
        };
      case 'function_call':
        return { ...item, id: item.id ?? newId('fc_'), call_id: item.call_id ?? newId('call_'), status: 'completed' };
      case 'custom_tool_call':
        return { ...item, id: item.id ?? newId('ctc_'), call_id: item.call_id ?? newId('call_'), status: 'completed' };
      case 'reasoning':
        return { ...item, id: item.id ?? newId('rs_') };
    }
  });
  const input = estimateTokens(JSON.stringify(body.input ?? '') + JSON.stringify(body.tools ?? ''));
  const u = step.usage ?? {};
  const inputTokens = u.input_tokens ?? input;
  const outputTokens = u.output_tokens ?? Math.max(1, estimateTokens(JSON.stringify(output)));
  const usage: ResponsesUsage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: u.cached_tokens ?? 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoning_tokens ?? 0 },
    total_tokens: u.total_tokens ?? inputTokens + outputTokens,
  };
  return {
    id: step.id ?? newId('resp_'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: step.model ?? body.model,
    output,
    usage,
  };
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-request-id': newId('req_'),
    ...headers,
  });
  res.end(body);
}

function defaultErrorType(status: number): string {
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function sendError(res: ServerResponse, step: ErrorStep) {
  const type = step.type ?? defaultErrorType(step.status);
  const error = { message: step.message ?? `fake-openai-responses: scripted ${step.status} ${type}`, type, param: null, code: step.code ?? null };
  sendJson(res, step.status, { error }, step.headers);
}

function openStream(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': newId('req_') });
  let sequence = 0;
  return (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
}

/** The response as the API streams it: created, in_progress, each item's added/deltas/done, completed. */
function sendStream(res: ServerResponse, response: FakeResponse) {
  const send = openStream(res);
  const pending = { ...response, status: 'in_progress', output: [], usage: null };
  send('response.created', { response: pending });
  send('response.in_progress', { response: pending });
  response.output.forEach((item, outputIndex) => {
    const id = item.id as string;
    if (item.type === 'message') {
      send('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
      (item.content as Array<{ text: string }>).forEach((part, contentIndex) => {
        send('response.content_part.added', { item_id: id, output_index: outputIndex, content_index: contentIndex, part: { ...part, text: '' } });
        send('response.output_text.delta', { item_id: id, output_index: outputIndex, content_index: contentIndex, delta: part.text });
        send('response.output_text.done', { item_id: id, output_index: outputIndex, content_index: contentIndex, text: part.text });
        send('response.content_part.done', { item_id: id, output_index: outputIndex, content_index: contentIndex, part });
      });
    } else if (item.type === 'function_call') {
      send('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
      send('response.function_call_arguments.delta', { item_id: id, output_index: outputIndex, delta: item.arguments });
      send('response.function_call_arguments.done', { item_id: id, output_index: outputIndex, arguments: item.arguments });
    } else if (item.type === 'custom_tool_call') {
      send('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', input: '' } });
      send('response.custom_tool_call_input.delta', { item_id: id, output_index: outputIndex, delta: item.input });
      send('response.custom_tool_call_input.done', { item_id: id, output_index: outputIndex, input: item.input });
    } else {
      send('response.output_item.added', { output_index: outputIndex, item });
    }
    send('response.output_item.done', { output_index: outputIndex, item });
  });
  send('response.completed', { response });
  res.end();
}

function sendFailedStream(res: ServerResponse, body: any, step: FailedStep) {
  const send = openStream(res);
  const base = { id: newId('resp_'), object: 'response', created_at: Math.floor(Date.now() / 1000), model: body.model, output: [], usage: null };
  send('response.created', { response: { ...base, status: 'in_progress' } });
  send('response.failed', {
    response: {
      ...base,
      status: 'failed',
      error: { code: step.code ?? 'server_error', message: step.message ?? 'fake-openai-responses: scripted response.failed' },
    },
  });
  res.end();
}

function estimateTokens(s: string): number {
  return Math.ceil(s.length / 4);
}

function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}
