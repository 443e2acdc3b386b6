import dns from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';

/**
 * An HTTP proxy (CONNECT for HTTPS, absolute-form requests for plain HTTP) that reaches only the
 * hosts on its allow list. A sandbox with network gets nothing but a way to this proxy, so this is
 * where its network is decided. Written here rather than taken from a library: the well-kept
 * candidate (`@anthropic-ai/sandbox-runtime`) needs Node 22 and socat, and the whole job is one
 * small server over Node's own `http` and `net`.
 *
 * An entry is `host` (ports 443 and 80), `host:port`, or `*.suffix` (any subdomain). A name is
 * resolved here, and a name that resolves to a loopback, private or link-local address is refused
 * (so that DNS cannot point an allowed name at the host's own services or the cloud's metadata
 * endpoint); an address written as an IP literal on the list is the only way to allow one.
 */
export interface AllowListProxy {
  /** The unix socket the proxy listens on. */
  socketPath: string;
  /** Hosts asked for and refused, for the failure message. */
  refused: ReadonlySet<string>;
  close(): Promise<void>;
}

export async function startAllowListProxy(socketPath: string, hosts: readonly string[]): Promise<AllowListProxy> {
  const gate = new Gate(hosts.map(parseEntry));
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = http.createServer((request, response) => void forward(gate, request, response));
  server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    void tunnel(gate, request, client, head, track);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    refused: gate.refused,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Decides where a request may go, and remembers what it refused. */
class Gate {
  readonly refused = new Set<string>();

  constructor(private readonly allow: Entry[]) {}

  /** The address to connect to for `host:port`, or null when the allow list or the address says no. */
  async decide(host: string, port: number): Promise<string | null> {
    const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
    const entry = this.allow.find((e) => e.matches(bare, port));
    if (!entry) return null;
    if (net.isIP(bare)) return entry.literal ? bare : null;
    const addresses = await dns.lookup(bare, { all: true }).catch(() => []);
    const usable = addresses.find((a) => !isInternal(a.address));
    return usable?.address ?? null;
  }

  /** Notes the refusal and says it in a sentence for the client. */
  refuse(host: string, port: number): string {
    this.refused.add(`${host}:${port}`);
    return `The sandbox allows no connection to ${host}:${port}: it is not on the allow list, or it resolves to a private address.\n`;
  }
}

/** A plain-HTTP request in absolute form (`GET http://host/path`), passed on to an allowed host. */
async function forward(gate: Gate, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  let target: URL;
  try {
    target = new URL(request.url ?? '');
  } catch {
    response.writeHead(400).end('Only absolute-form requests and CONNECT are proxied.\n');
    return;
  }
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const address = target.protocol === 'http:' ? await gate.decide(target.hostname, port) : null;
  if (address === null) {
    response.writeHead(403, { 'content-type': 'text/plain' }).end(gate.refuse(target.hostname, port));
    return;
  }
  const headers: http.OutgoingHttpHeaders = { ...request.headers, host: target.host };
  delete headers['proxy-connection'];
  delete headers['proxy-authorization'];
  const upstream = http.request({ host: address, port, method: request.method, path: `${target.pathname}${target.search}`, headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => response.headersSent ? response.destroy() : response.writeHead(502).end('Upstream failed.\n'));
  request.pipe(upstream);
}

/** A CONNECT tunnel (HTTPS, or any TCP) to an allowed host. */
async function tunnel(gate: Gate, request: http.IncomingMessage, client: net.Socket, head: Buffer, track: (socket: net.Socket) => void): Promise<void> {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(request.url ?? '');
  const host = match?.[1] ?? '';
  const port = Number(match?.[2] ?? 0);
  const address = match ? await gate.decide(host, port) : null;
  if (address === null) {
    const text = gate.refuse(host || String(request.url), port);
    client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    return;
  }
  const upstream = net.connect({ host: address, port }, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  track(upstream);
  upstream.on('error', () => client.destroy());
}

interface Entry {
  matches(host: string, port: number): boolean;
  /** An IP literal the operator wrote down: the only way an internal address is allowed. */
  literal: boolean;
}

function parseEntry(text: string): Entry {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text.trim().toLowerCase());
  if (!match) return { matches: () => false, literal: false };
  const host = match[1]!.replace(/^\[|\]$/g, '');
  const ports = match[2] ? [Number(match[2])] : [443, 80];
  const wildcard = host.startsWith('*.') ? host.slice(1) : undefined;
  return {
    literal: net.isIP(host) !== 0,
    matches: (wanted, port) => ports.includes(port) && (wildcard ? wanted.endsWith(wildcard) : wanted === host),
  };
}

const internal = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) internal.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  internal.addSubnet(address, prefix, 'ipv6');
}

function isInternal(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return internal.check(mapped[1]!, 'ipv4');
  return internal.check(address, net.isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
