import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAllowListProxy } from './allow-list-proxy.js';
import { runProcess } from './run-shell.js';
import type { Sandbox, SandboxRequest, SandboxResult } from './sandbox.js';

export interface BubblewrapOptions {
  /** The `bwrap` program; default: found on PATH. */
  bwrap?: string;
  /** Host folders every sandbox may read, at the same path (tools installed outside /usr). */
  readOnly?: readonly string[];
  /** Size of the private /tmp and of HOME, each. */
  tmpfsBytes?: number;
  /** The largest file a command may write (RLIMIT_FSIZE): a command filling the disk stops there. */
  maxFileBytes?: number;
  /** Processes and threads of the app's user (RLIMIT_NPROC; not enforced for root): a fork bomb stops there. */
  maxProcesses?: number;
  /** Where each command's own folder is made (its generated /etc files and proxy socket); default: the OS's. */
  tmpDir?: string;
}

/** Inside the sandbox: the unprivileged user, its home, and where the proxy's socket is mounted. */
const UID = 1000;
const HOME = '/home/agent';
const PROXY_DIR = '/run/agent-proxy';
const PROXY_PORT = 3128;

/**
 * The sandbox on bubblewrap (SANDBOX.md §2): new PID, IPC, UTS, user and network namespaces, a fresh
 * /proc, no nested user namespaces, dying with its parent, in its own session. The machine is seen
 * through /usr and a few files of /etc, read-only; the worktree is the one writable host folder, its
 * `.git` file and its clone read-only; /tmp and HOME are private and size-limited. bwrap itself is
 * spawned with the neutral environment only: its own environment is readable inside at /proc/1/environ.
 */
export async function createBubblewrapSandbox(options: BubblewrapOptions = {}): Promise<Sandbox> {
  const bwrap = [...limits(options.maxFileBytes ?? 4 * 1024 ** 3, options.maxProcesses ?? 4096), options.bwrap ?? 'bwrap'];
  const tmpfsBytes = options.tmpfsBytes ?? 1024 ** 3;
  const node = process.execPath;

  return {
    async run(request: SandboxRequest): Promise<SandboxResult> {
      // The generated passwd, group and hosts, and the proxy's socket, in a folder only we can read, made
      // for this command and removed with it (a folder kept for the process would outlive a killed one).
      const own = await fs.mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), 'agent-sandbox-'));
      try {
        await Promise.all([
          fs.writeFile(path.join(own, 'passwd'), `agent:x:${UID}:${UID}:agent:${HOME}:/bin/sh\n`),
          fs.writeFile(path.join(own, 'group'), `agent:x:${UID}:\n`),
          fs.writeFile(path.join(own, 'hosts'), '127.0.0.1 localhost sandbox\n::1 localhost\n'),
        ]);
        if (request.network.kind === 'none') return await runInside(bwrap, bubblewrapArgs(request, { own, tmpfsBytes, readOnly: options.readOnly ?? [] }), request);
        return await runWithProxy(request, request.network.hosts, own);
      } finally {
        await fs.rm(own, { recursive: true, force: true });
      }
    },
  };

  /** One proxy per command, with this command's allow list, on a socket in a folder of its own (mounted inside). */
  async function runWithProxy(request: SandboxRequest, hosts: readonly string[], own: string): Promise<SandboxResult> {
    const socketDir = path.join(own, 'proxy');
    await fs.mkdir(socketDir, { mode: 0o700 });
    const proxy = await startAllowListProxy(path.join(socketDir, 'proxy.sock'), hosts);
    try {
      const args = bubblewrapArgs(request, { own, tmpfsBytes, readOnly: [...(options.readOnly ?? []), path.dirname(node)], proxy: { socketDir, node } });
      const result = await runInside(bwrap, args, request);
      const refusedHosts = [...proxy.refused];
      // a failure may be a refused connection: say so where the people reading the output look
      if (result.kind !== 'ok' && refusedHosts.length > 0) {
        result.output += `\n[sandbox: refused connections to ${refusedHosts.join(', ')}: not on the allow list]`;
      }
      return { ...result, refusedHosts };
    } finally {
      await proxy.close();
    }
  }
}

/**
 * `prlimit` in front of bwrap, when the machine has it (util-linux): resource limits that bwrap
 * itself does not set, inherited by everything in the sandbox. Memory and CPU are left to the
 * deployment (a container's or VM's limits): an address-space limit breaks Node's and the JVM's
 * large reservations, and cgroups are not delegated to an unprivileged app everywhere.
 */
function limits(maxFileBytes: number, maxProcesses: number): string[] {
  const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((file) => existsSync(file));
  if (!prlimit) return [];
  return [prlimit, `--fsize=${maxFileBytes}`, `--nproc=${maxProcesses}`, '--nofile=4096', '--core=0', '--'];
}

function runInside(bwrap: readonly string[], args: string[], request: SandboxRequest) {
  const [program = 'bwrap', ...rest] = [...bwrap, ...args];
  return runProcess(program, rest, {
    cwd: '/',
    env: neutralEnv(request),
    timeoutMs: request.timeoutMs,
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.stdin !== undefined ? { stdin: request.stdin } : {}),
    ...(request.maxOutputBytes !== undefined ? { maxOutputBytes: request.maxOutputBytes } : {}),
    ...(request.keep ? { keep: request.keep } : {}),
  });
}

/** The whole environment inside: nothing of the app's, whatever the deployment adds later. */
function neutralEnv(request: SandboxRequest): Record<string, string> {
  const proxy = request.network.kind === 'hosts' ? `http://127.0.0.1:${PROXY_PORT}` : undefined;
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME, TMPDIR: '/tmp', USER: 'agent', LOGNAME: 'agent', SHELL: '/bin/sh', LANG: 'C.UTF-8',
    CI: 'true', NO_COLOR: '1', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1',
    ...(proxy ? { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NO_PROXY: '', no_proxy: '' } : {}),
    ...request.env,
  };
}

/** The allowed `127.0.0.1:PORT` entries' ports, listened on inside too (not the proxy's own). */
function loopbackPorts(request: SandboxRequest): number[] {
  if (request.network.kind !== 'hosts') return [];
  const ports = request.network.hosts.map((host) => /^127\.0\.0\.1:(\d+)$/.exec(host.trim())?.[1]).filter((p) => p !== undefined).map(Number);
  return [...new Set(ports)].filter((p) => p !== PROXY_PORT);
}

interface Layout {
  /** Our private folder with the generated /etc files. */
  own: string;
  tmpfsBytes: number;
  readOnly: readonly string[];
  proxy?: { socketDir: string; node: string };
}

/** The bwrap argument list for one command (exported for the tests of its shape). */
export function bubblewrapArgs(request: SandboxRequest, layout: Layout): string[] {
  const args = [
    '--unshare-all', '--unshare-user', '--disable-userns', '--uid', String(UID), '--gid', String(UID), '--hostname', 'sandbox',
    '--die-with-parent', '--new-session', '--clearenv',
    '--ro-bind', '/usr', '/usr',
  ];
  for (const link of ['bin', 'lib', 'lib32', 'lib64', 'sbin']) {
    if (existsSync(`/usr/${link}`)) args.push('--symlink', `usr/${link}`, `/${link}`);
  }
  for (const file of ['alternatives', 'ssl', 'ca-certificates', 'ld.so.cache', 'localtime', 'nsswitch.conf', 'mime.types']) {
    args.push('--ro-bind-try', `/etc/${file}`, `/etc/${file}`);
  }
  args.push(
    '--ro-bind', path.join(layout.own, 'passwd'), '/etc/passwd',
    '--ro-bind', path.join(layout.own, 'group'), '/etc/group',
    '--ro-bind', path.join(layout.own, 'hosts'), '/etc/hosts',
    '--proc', '/proc', '--dev', '/dev',
    '--size', String(layout.tmpfsBytes), '--tmpfs', '/tmp',
    '--perms', '0700', '--size', String(layout.tmpfsBytes), '--tmpfs', HOME,
  );
  for (const dir of layout.readOnly) args.push('--ro-bind-try', dir, dir);
  args.push(
    '--ro-bind', request.cloneDir, request.cloneDir,
    '--bind', request.worktree, request.worktree,
    // the worktree's `.git` file names its git dir: a command may not point it elsewhere
    '--ro-bind', path.join(request.worktree, '.git'), path.join(request.worktree, '.git'),
  );
  for (const dir of request.writable ?? []) args.push('--bind', dir, dir);
  if (layout.proxy) args.push('--ro-bind', layout.proxy.socketDir, PROXY_DIR);
  // the root bwrap builds is a scratch tmpfs: read-only, so that only the mounts above take writes
  args.push('--remount-ro', '/');
  // with its environment set by --setenv, not inherited: bwrap's own is that of the app's child
  for (const [name, value] of Object.entries(neutralEnv(request))) args.push('--setenv', name, value);
  args.push('--chdir', request.worktree);
  if (!layout.proxy) return [...args, '/bin/sh', '-c', request.command];
  return [
    ...args, layout.proxy.node, '-e', BRIDGE, `${PROXY_DIR}/proxy.sock`, String(PROXY_PORT), loopbackPorts(request).join(','),
    '/bin/sh', '-c', request.command,
  ];
}

/**
 * Runs inside a sandbox with network: listens on the sandbox's own loopback and forwards every
 * connection to the app's proxy through the mounted unix socket (the sandbox has no other network),
 * then runs the command and exits with its status. An allowed `127.0.0.1:PORT` is also listened on
 * at that same port inside and tunnelled with CONNECT, so a client that ignores HTTP_PROXY (a CLI
 * pointed at a local model server) still reaches it, and still only through the proxy.
 */
const BRIDGE = `
const net = require('node:net');
const { spawn } = require('node:child_process');
const [socket, port, forwards, ...command] = process.argv.slice(1);
const pipe = (client, upstream) => {
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
};
const listeners = [net.createServer((client) => {
  const upstream = net.connect(socket);
  pipe(client, upstream);
  client.pipe(upstream).pipe(client);
}).listen(Number(port), '127.0.0.1')];
for (const forwarded of forwards.split(',').filter(Boolean)) {
  listeners.push(net.createServer((client) => {
    client.pause();
    const upstream = net.connect(socket, () => upstream.write('CONNECT 127.0.0.1:' + forwarded + ' HTTP/1.1\\r\\nHost: 127.0.0.1:' + forwarded + '\\r\\n\\r\\n'));
    pipe(client, upstream);
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\\r\\n\\r\\n');
      if (end === -1) return;
      upstream.off('data', onData);
      if (!/^HTTP\\/1\\.[01] 200/.test(head.toString('latin1', 0, end))) return client.destroy();
      if (head.length > end + 4) client.write(head.subarray(end + 4));
      upstream.pipe(client);
      client.pipe(upstream);
      client.resume();
    };
    upstream.on('data', onData);
  }).listen(Number(forwarded), '127.0.0.1'));
}
let listening = 0;
for (const listener of listeners) listener.on('listening', () => {
  if (++listening < listeners.length) return;
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  child.on('error', (error) => { console.error(error.message); process.exit(127); });
});
`;
