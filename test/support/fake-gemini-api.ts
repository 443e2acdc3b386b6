/**
 * A scripted stand-in for the Gemini API (`generativelanguage.googleapis.com`, `v1beta`), served over real HTTP on
 * 127.0.0.1 so that a real client talks to it unchanged (Gemini CLI with `GOOGLE_GEMINI_BASE_URL=api.url`):
 *
 *   const api = await startFakeGeminiApi({
 *     steps: [reply(functionCall('replace', { file_path: 'a.txt', old_string: 'a', new_string: 'b' })), reply('Done.')],
 *   });
 *   ...
 *   expect(api.turns()[1]!.body.contents.at(-1).parts[0].functionResponse.name).toBe('replace');
 *   await api.close();
 *
 * Every request is recorded in `requests` (JSON body parsed). A model turn, `POST /v1beta/models/{model}:generateContent`
 * or `:streamGenerateContent` (server-sent events with `?alt=sse`, else a JSON array of chunks), takes the next scripted
 * step: a reply (text and function-call parts), an HTTP error in Google's error shape, or a function that computes one
 * of those from the request. A `generateContent` that asks for JSON (`generationConfig.responseJsonSchema` or
 * `responseSchema`), which is how Gemini CLI asks a small model where to route a prompt or who speaks next, is not a
 * model turn and takes no step: `structured` answers it (by default with the schema's fields filled with plain values:
 * an enum's first value, `1`, `false`, `[]`). `:countTokens` is answered from the same estimate of ~4 characters per
 * token that the replies' `usageMetadata` uses. Anything else is a 404.
 */
import type { ServerResponse } from 'node:http';
import { startScriptedHttpServer, type RecordedRequest, type Scripted } from './local-http-server.js';
import { randomBytes } from 'node:crypto';

export type { RecordedRequest } from './local-http-server.js';

/** A part of a reply's content, as the API sends it. */
export type Part =
  | { text: string; thought?: boolean }
  | { functionCall: { name: string; args: Record<string, unknown>; id?: string }; thoughtSignature?: string };

export interface UsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

export interface ReplyStep {
  kind: 'reply';
  parts: Part[];
  /** Defaults to `STOP` (the API's finish reason for function calls too) */
  finishReason?: string;
  /** Merged over the estimated usage (`totalTokenCount` is recomputed unless given) */
  usage?: Partial<UsageMetadata>;
  /** The reply's `modelVersion`; defaults to the model in the request's path */
  modelVersion?: string;
}

export interface ErrorStep {
  kind: 'error';
  /** The HTTP status, also `error.code` */
  status: number;
  /** `error.status`; defaults from the HTTP status (400 `INVALID_ARGUMENT`, 429 `RESOURCE_EXHAUSTED`, …) */
  statusText?: string;
  message?: string;
  /** Extra response headers */
  headers?: Record<string, string>;
}

export type ScriptStep = Scripted<ReplyStep | ErrorStep>;

export interface FakeGeminiApi {
  /** `http://127.0.0.1:<port>`: the client's base URL */
  url: string;
  port: number;
  /** Every request received, in order, including errors and ones that took no step */
  requests: RecordedRequest[];
  /** The model turns received (the requests that took, or asked for, a step), in order */
  turns(): RecordedRequest[];
  /** Replace the steps not yet taken with `steps` */
  script(steps: ScriptStep[]): void;
  /** How many scripted steps have not been taken yet */
  readonly pending: number;
  /** Stop listening and destroy every open connection */
  close(): Promise<void>;
}

export interface FakeGeminiApiOptions {
  steps?: ScriptStep[];
  /**
   * What a model turn gets once the steps run out: `'error'` (default) answers 400 `INVALID_ARGUMENT` saying so
   * (a 400, which clients do not retry, rather than a 5xx that they retry for a minute); `'repeat-last'` takes the
   * last step again.
   */
  onExhausted?: 'error' | 'repeat-last';
  /** The JSON object that answers a structured (JSON-schema) `generateContent`; default: filled from the schema */
  structured?: (request: RecordedRequest) => unknown;
  /** Text parts are streamed in chunks of at most this many characters, like the API's deltas (default 24) */
  chunkChars?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Builders

export function text(t: string): Part {
  return { text: t };
}

export function functionCall(name: string, args: Record<string, unknown>): Part {
  return { functionCall: { name, args } };
}

/** A reply with `parts` (a string is a text part). */
export function reply(...parts: Array<Part | string>): ReplyStep {
  return { kind: 'reply', parts: parts.map((part) => (typeof part === 'string' ? text(part) : part)) };
}

/** An HTTP error step, e.g. `apiError(400, { message: 'API key not valid. Please pass a valid API key.' })`. */
export function apiError(status: number, rest: Omit<ErrorStep, 'kind' | 'status'> = {}): ErrorStep {
  return { kind: 'error', status, ...rest };
}

// ---------------------------------------------------------------------------------------------------------------
// Server

const MODEL_PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

export async function startFakeGeminiApi(options: FakeGeminiApiOptions = {}): Promise<FakeGeminiApi> {
  const chunkChars = Math.max(1, options.chunkChars ?? 24);
  const turns: RecordedRequest[] = [];
  const server = await startScriptedHttpServer<ReplyStep | ErrorStep>({
    steps: options.steps,
    onExhausted: options.onExhausted,
    describe,
    exhausted: (request, taken) => apiError(400, {
      message: `fake-gemini-api: script exhausted: ${turns.length} model turn(s) came but only ${taken} step(s) were `
        + `scripted (this is ${describe(request)})`,
    }),
    handle(request, res, take) {
      const url = new URL(request.path, 'http://fake');
      const match = MODEL_PATH.exec(url.pathname);
      if (request.method !== 'POST' || !match) {
        return sendError(res, apiError(404, { message: `fake-gemini-api: no route for ${request.method} ${request.path}` }));
      }
      const model = decodeURIComponent(match[1]!);
      const action = match[2]!;
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return sendError(res, apiError(400, { message: 'Invalid JSON payload received.' }));
      }

      if (action === 'countTokens') {
        const counted = body.generateContentRequest ?? body;
        return sendJson(res, 200, { totalTokens: promptTokens(counted) });
      }
      if (!Array.isArray(body.contents)) return sendError(res, apiError(400, { message: '* GenerateContentRequest.contents: contents is not specified' }));

      const schema = body.generationConfig?.responseJsonSchema ?? body.generationConfig?.responseSchema;
      if (action === 'generateContent' && schema !== undefined) {
        const value = options.structured ? options.structured(request) : fromSchema(schema);
        const step: ReplyStep = { kind: 'reply', parts: [text(JSON.stringify(value))] };
        return sendJson(res, 200, chunks(step, body, model, Number.MAX_SAFE_INTEGER)[0]);
      }

      turns.push(request);
      const step = take();
      if (step.kind === 'error') return sendError(res, step);

      if (action === 'generateContent') return sendJson(res, 200, chunks(step, body, model, Number.MAX_SAFE_INTEGER)[0]);
      const events = chunks(step, body, model, chunkChars);
      if (url.searchParams.get('alt') !== 'sse') return sendJson(res, 200, events);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': newId() });
      for (const event of events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
      res.end();
    },
    onError(res, message) {
      sendError(res, apiError(500, { message: `fake-gemini-api: ${message}` }));
    },
  });
  return Object.assign(server, { turns: () => [...turns] });
}

function describe(request: RecordedRequest): string {
  const contents = Array.isArray(request.body?.contents) ? request.body.contents.length : 0;
  return `${request.method} ${request.path} with ${contents} content(s)`;
}

// ---------------------------------------------------------------------------------------------------------------
// Replies

/** The response chunks of a reply: text cut into deltas of `size` characters, the finish reason and usage on the last. */
function chunks(step: ReplyStep, body: any, model: string, size: number): object[] {
  const pieces: Part[] = [];
  for (const part of step.parts) {
    if ('text' in part && part.text.length > size) {
      for (let i = 0; i < part.text.length; i += size) pieces.push({ ...part, text: part.text.slice(i, i + size) });
    } else {
      pieces.push(part);
    }
  }
  if (pieces.length === 0) pieces.push(text(''));
  const prompt = promptTokens(body);
  const candidates = Math.max(1, estimateTokens(JSON.stringify(step.parts)));
  const usage: UsageMetadata = { promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: 0, ...step.usage };
  if (step.usage?.totalTokenCount === undefined) {
    usage.totalTokenCount = usage.promptTokenCount + usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0);
  }
  const responseId = newId();
  const modelVersion = step.modelVersion ?? model;
  return pieces.map((part, i) => {
    const last = i === pieces.length - 1;
    return {
      candidates: [{ content: { role: 'model', parts: [part] }, index: 0, ...(last ? { finishReason: step.finishReason ?? 'STOP' } : {}) }],
      ...(last ? { usageMetadata: usage } : {}),
      modelVersion,
      responseId,
    };
  });
}

/** A value for a JSON schema (Gemini's upper-case `OBJECT`/`STRING` or JSON Schema's lower-case types). */
function fromSchema(schema: any): unknown {
  if (!schema || typeof schema !== 'object') return null;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = String(Array.isArray(schema.type) ? schema.type[0] : schema.type ?? (schema.properties ? 'object' : 'string')).toLowerCase();
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, value]) => [key, fromSchema(value)]));
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return 'fake';
  }
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const STATUS_TEXTS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function sendError(res: ServerResponse, step: ErrorStep) {
  const status = step.statusText ?? STATUS_TEXTS[step.status] ?? (step.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  const message = step.message ?? `fake-gemini-api: scripted ${step.status} ${status}`;
  sendJson(res, step.status, { error: { code: step.status, message, status } }, step.headers);
}

// ---------------------------------------------------------------------------------------------------------------
// Token estimate

function estimateTokens(s: string): number {
  return Math.ceil(s.length / 4);
}

/** The prompt's tokens: its system instruction, tools and contents. */
function promptTokens(body: any): number {
  const prompt = [body?.systemInstruction, body?.tools, body?.contents].filter((piece) => piece !== undefined);
  return Math.max(1, estimateTokens(JSON.stringify(prompt)));
}

function newId(): string {
  return randomBytes(12).toString('base64url');
}
