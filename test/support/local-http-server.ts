import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LocalHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stops listening and ends every open connection (keep-alive, a stream in flight); once. */
  close(): Promise<void>;
}

/**
 * An HTTP server on a free loopback port, for the fakes of model APIs. A handler that throws gets
 * `onError`'s answer while nothing was sent yet; after that its connection is dropped.
 */
async function startLocalHttpServer(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (res: ServerResponse, message: string) => void,
): Promise<LocalHttpServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else onError(res, error instanceof Error ? error.message : String(error));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** The request's body: parsed JSON, the raw text when it is not JSON, undefined when empty. */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** A request as a fake records it. */
export interface RecordedRequest {
  method: string;
  /** The request path with its query string, e.g. `/v1/messages` */
  path: string;
  /** Lower-cased header names, as node:http gives them */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; the raw text if it isn't JSON; `undefined` if empty */
  body: any;
  /** When it arrived (Date.now()), to order it against other servers' records */
  at: number;
}

/** A scripted step, or a function of the request that gives one (possibly another function). */
export type Scripted<Step, Request = RecordedRequest> = Step | ((request: Request) => Scripted<Step, Request>);

function resolveStep<Step, Request>(step: Scripted<Step, Request>, request: Request): Step {
  for (let depth = 0; depth < 20; depth++) {
    if (typeof step !== 'function') return step;
    step = (step as (request: Request) => Scripted<Step, Request>)(request);
  }
  throw new Error('script step functions returned functions 20 levels deep');
}

export interface ScriptedHttpServer<Step> extends LocalHttpServer {
  /** Every request received, in order, including errors and ones that took no step */
  requests: RecordedRequest[];
  /** Replace the steps not yet taken with `steps` */
  script(steps: Array<Scripted<Step>>): void;
  /** How many scripted steps have not been taken yet */
  readonly pending: number;
}

export interface ScriptedHttpServerOptions<Step> {
  steps?: Array<Scripted<Step>> | undefined;
  /** Once the steps run out: `'error'` (default) gives `exhausted`'s step; `'repeat-last'` takes the last step again. */
  onExhausted?: 'error' | 'repeat-last' | undefined;
  /** The step for a request that came when the steps had run out; `taken` steps were scripted and taken. */
  exhausted(request: RecordedRequest, taken: number, requests: RecordedRequest[]): Step;
  /** The request, for the error messages: `POST /v1/… with …` */
  describe(request: RecordedRequest): string;
  /** Answers a recorded request; `take()` gives it the next step (and throws, saying so, when a step function throws). */
  handle(request: RecordedRequest, res: ServerResponse, take: () => Step): Promise<void> | void;
  /** The answer to a request whose handling threw, while nothing was sent yet. */
  onError(res: ServerResponse, message: string): void;
}

/**
 * The part the fakes of model APIs share: a local HTTP server that records every request and hands the ones
 * that ask for a model turn the next scripted step.
 */
export async function startScriptedHttpServer<Step>(options: ScriptedHttpServerOptions<Step>): Promise<ScriptedHttpServer<Step>> {
  const requests: RecordedRequest[] = [];
  let queue = [...(options.steps ?? [])];
  let taken = 0;
  let lastStep: Scripted<Step> | undefined;

  const nextStep = (request: RecordedRequest): Scripted<Step> => {
    const step = queue.shift();
    if (step !== undefined) {
      taken += 1;
      lastStep = step;
      return step;
    }
    if (options.onExhausted === 'repeat-last' && lastStep !== undefined) return lastStep;
    return options.exhausted(request, taken, requests);
  };

  const take = (request: RecordedRequest): Step => {
    const step = nextStep(request);
    try {
      return resolveStep(step, request);
    } catch (error) {
      throw new Error(`a script step function threw on ${options.describe(request)}: ${
        error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }
  };

  const server = await startLocalHttpServer(async (req, res) => {
    const at = Date.now();
    const request: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, body: await readBody(req), at };
    requests.push(request);
    await options.handle(request, res, () => take(request));
  }, options.onError);
  return {
    ...server,
    requests,
    script(steps) {
      queue = [...steps];
    },
    get pending() {
      return queue.length;
    },
  };
}
