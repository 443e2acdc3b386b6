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
export async function startLocalHttpServer(
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
export async function readBody(req: IncomingMessage): Promise<unknown> {
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

/** A scripted step, or a function of the request that gives one (possibly another function). */
export type Scripted<Step, Request> = Step | ((request: Request) => Scripted<Step, Request>);

export function resolveStep<Step, Request>(step: Scripted<Step, Request>, request: Request): Step {
  for (let depth = 0; depth < 20; depth++) {
    if (typeof step !== 'function') return step;
    step = (step as (request: Request) => Scripted<Step, Request>)(request);
  }
  throw new Error('script step functions returned functions 20 levels deep');
}
