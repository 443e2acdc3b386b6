/**
 * The probes of SANDBOX.md §5 against the real bubblewrap: each must be refused. There is no skip:
 * without bwrap these fail (`npm test` installs it first, through scripts/provide-test-tools.sh).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Workspace } from '../../src/git/workspace.js';
import { createBubblewrapSandbox } from '../../src/sandbox/bubblewrap-sandbox.js';
import type { Sandbox, SandboxRequest } from '../../src/sandbox/sandbox.js';
import { startSandbox } from '../../src/sandbox/start-sandbox.js';
import { findProgram } from '../support/find-program.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import type { Worktree } from '../../src/git/worktree.js';

const SECRETS = {
  PRIVATE_KEY: 'sentinel-private-key-7f3a',
  WEBHOOK_SECRET: 'sentinel-webhook-secret-91c2',
  ANTHROPIC_API_KEY: 'sentinel-model-key-55d0',
};

let git: GitSandbox;
let workspace: Workspace;
let worktree: Worktree;
let other: Worktree;
let sandbox: Sandbox;
let keyFile: string;
let hostTmpFile: string;
let appServer: http.Server;
let appPort: number;
let abstract: net.Server;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  findProgram('bwrap');
  for (const [name, value] of Object.entries(SECRETS)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  git = await createGitSandbox();
  await git.commitToRemote('main', { 'package.json': '{"name":"small","scripts":{"test":"node test.js"}}\n', 'test.js': 'console.log("1 passing")\n' }, 'Small project');
  workspace = new Workspace({ workDir: path.join(git.root, 'work'), log: pino({ level: 'silent' }), env: git.gitEnv });
  const repo = { owner: 'octo', repo: 'app', cloneUrl: git.remoteUrl };
  const otherRepo = { owner: 'octo', repo: 'other', cloneUrl: git.remoteUrl };
  await workspace.sync(repo);
  await workspace.sync(otherRepo);
  worktree = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1', startPoint: 'origin/main' });
  other = await workspace.addWorktree(otherRepo, { name: 'issue-2', branch: 'agent/issue-2', startPoint: 'origin/main' });
  keyFile = path.join(git.root, 'app.pem');
  await fs.writeFile(keyFile, SECRETS.PRIVATE_KEY, { mode: 0o600 });
  hostTmpFile = path.join(os.tmpdir(), `host-tmp-probe-${process.pid}`);
  await fs.writeFile(hostTmpFile, 'host tmp');
  appServer = http.createServer((_req, res) => res.end('the app answered'));
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  appPort = (appServer.address() as net.AddressInfo).port;
  abstract = net.createServer((socket) => socket.end('abstract answered'));
  await new Promise<void>((resolve) => abstract.listen(`\0agent-mapreduce-probe-${process.pid}`, resolve));
  sandbox = await createBubblewrapSandbox();
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await new Promise((resolve) => appServer?.close(resolve));
  await new Promise((resolve) => abstract?.close(resolve));
  await fs.rm(hostTmpFile, { force: true });
  await git?.cleanup();
});

const clone = () => workspace.cloneDir(worktree);

function run(command: string, extra: Partial<SandboxRequest> = {}) {
  return sandbox.run({ command, worktree: worktree.dir, cloneDir: clone(), network: { kind: 'none' }, timeoutMs: 20_000, ...extra });
}

/** Runs each probe; returns the ones that got through (printed `LEAK <name>`). */
async function leaks(probes: Record<string, string>, extra: Partial<SandboxRequest> = {}): Promise<string[]> {
  const script = Object.entries(probes).map(([name, probe]) => `if ( ${probe} ) >/dev/null 2>&1; then echo "LEAK ${name}"; fi`).join('\n');
  const result = await run(script, extra);
  expect(result.kind).toBe('ok');
  return result.output.split('\n').filter((line) => line.startsWith('LEAK ')).map((line) => line.slice(5));
}

describe('the bubblewrap sandbox', () => {
  it('hides the app process, its environment and the machine (probes 1-3)', async () => {
    const app = process.pid;
    expect(await leaks({
      'app environ': `cat /proc/${app}/environ`,
      'app cmdline': `cat /proc/${app}/cmdline`,
      'app mem': `head -c 1 /proc/${app}/mem`,
      'kill -0 app': `kill -0 ${app}`,
      'pid 1 environ holds a secret': `grep -a -e ${SECRETS.PRIVATE_KEY} -e ${SECRETS.WEBHOOK_SECRET} -e ${SECRETS.ANTHROPIC_API_KEY} /proc/1/environ`,
      'env holds a secret': `env | grep -e sentinel-`,
      'key file': `cat ${keyFile}`,
      'work dir lists other repositories': `ls ${path.dirname(clone())} | grep -q other`,
      'other clone': `ls ${workspace.cloneDir(other)}`,
      'other worktree': `ls ${other.dir}`,
      'host tmp': `cat ${hostTmpFile}`,
      'app home': `ls ${os.homedir()}`,
    })).toEqual([]);
    const ps = await run('ls /proc | grep -E "^[0-9]+$" | wc -l');
    expect(Number(ps.output.trim())).toBeLessThanOrEqual(5);
  });

  it('writes only the worktree (probe 4)', async () => {
    expect(await leaks({
      '/usr': 'touch /usr/probe',
      '/etc': 'touch /etc/probe',
      '/': 'touch /probe-root',
      'clone config': `echo "[core] fsmonitor = evil" >> ${clone()}/config`,
      'clone hooks': `touch ${clone()}/hooks/pre-commit`,
      'clone worktrees': `touch ${clone()}/worktrees/probe`,
      'worktree .git file': 'echo "gitdir: /tmp/evil" > .git',
      'worktree .git removal': 'rm -f .git',
      'nested user namespace (probe 9)': 'unshare -U true',
    })).toEqual([]);
    expect((await run('echo written > from-sandbox.txt')).kind).toBe('ok');
    expect(await fs.readFile(path.join(worktree.dir, 'from-sandbox.txt'), 'utf8')).toBe('written\n');
    expect(await fs.readFile(path.join(clone(), 'config'), 'utf8')).not.toContain('fsmonitor');
    await fs.rm(path.join(worktree.dir, 'from-sandbox.txt'));
  });

  it('has no network at all without an allow list (probe 5)', async () => {
    expect(await leaks({
      'tcp to the app': `node -e "require('net').connect(${appPort},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"`,
      'abstract socket': `node -e "require('net').connect('\\0agent-mapreduce-probe-${process.pid}').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"`,
      'dns': `node -e "require('dns').lookup('registry.npmjs.org',(e)=>process.exit(e?1:0))"`,
      'https': `node -e "fetch('https://registry.npmjs.org/').then(()=>process.exit(0),()=>process.exit(1))"`,
    })).toEqual([]);
  });

  it('reaches only allow-listed hosts through the proxy (probe 6)', async () => {
    const allowed = http.createServer((_req, res) => res.end('allowed answered'));
    await new Promise<void>((resolve) => allowed.listen(0, '127.0.0.1', resolve));
    const allowedPort = (allowed.address() as net.AddressInfo).port;
    try {
      const curlVia = (url: string) => `node -e "
        const http=require('http');const u=new URL('${url}');
        http.get({host:'127.0.0.1',port:3128,path:u.href,headers:{host:u.host}},(r)=>{let b='';r.on('data',(d)=>b+=d);r.on('end',()=>{console.log(r.statusCode,b);process.exit(r.statusCode===200?0:1)})}).on('error',()=>process.exit(1))"`;
      const network = { kind: 'hosts' as const, hosts: [`127.0.0.1:${allowedPort}`, 'example.invalid'] };
      const ok = await run(curlVia(`http://127.0.0.1:${allowedPort}/`), { network });
      expect(ok.output).toContain('200 allowed answered');
      expect(ok).toMatchObject({ kind: 'ok', refusedHosts: [] });
      // a command that gets past a refusal still has it named on its result (the output notes it only on failure)
      const shrugged = await run(`${curlVia('http://registry.npmjs.org/')} || true`, { network });
      expect(shrugged).toMatchObject({ kind: 'ok', refusedHosts: ['registry.npmjs.org:80'] });
      expect(shrugged.output).not.toContain('[sandbox: refused');
      expect(await leaks({
        'the app port': curlVia(`http://127.0.0.1:${appPort}/`),
        'metadata endpoint': curlVia('http://169.254.169.254/latest/meta-data/'),
        'a host not on the list': curlVia('http://registry.npmjs.org/'),
        'direct tcp to a port not on the list': `node -e "require('net').connect(${appPort},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"`,
      }, { network })).toEqual([]);
      // an allowed loopback port is also reachable directly (by a client that ignores HTTP_PROXY), tunnelled through the proxy
      const direct = await run(`node -e "require('http').get('http://127.0.0.1:${allowedPort}/',(r)=>{let b='';r.on('data',(d)=>b+=d);r.on('end',()=>console.log(r.statusCode,b))})"`, { network });
      expect(direct.output).toContain('200 allowed answered');
    } finally {
      await new Promise((resolve) => allowed.close(resolve));
    }
  });

  it('leaves no process behind: a setsid daemon, and a command killed at its timeout (probe 7)', async () => {
    const marker = `${Date.now() % 100000}.5`;
    await run(`setsid sleep ${marker} > /dev/null 2>&1 < /dev/null & echo started`);
    const timedOut = await run(`sleep ${marker}1`, { timeoutMs: 500 });
    expect(timedOut.kind).toBe('timeout');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((line) => line.includes(`sleep ${marker}`));
    expect(left).toEqual([]);
  });

  it('keeps its generated files in a folder of each command, removed when the command ends, with or without network', async () => {
    const tmpDir = path.join(git.root, 'sandbox-tmp');
    await fs.mkdir(tmpDir);
    const own = await createBubblewrapSandbox({ tmpDir });
    for (const network of [{ kind: 'none' }, { kind: 'hosts', hosts: ['example.invalid'] }] as const) {
      const running = own.run({ command: 'sleep 0.5; cat /etc/passwd', worktree: worktree.dir, cloneDir: clone(), network, timeoutMs: 20_000 });
      let ended = false;
      void running.finally(() => (ended = true));
      let during: string[] = [];
      while (during.length === 0 && !ended) during = await fs.readdir(tmpDir);
      const result = await running;
      expect(result).toMatchObject({ kind: 'ok', exitCode: 0 });
      expect(result.output).toContain('agent:x:1000:1000');
      expect(during).toEqual([expect.stringMatching(/^agent-sandbox-/)]);
      expect(await fs.readdir(tmpDir)).toEqual([]);
    }
  });

  it('refuses a hard link to a file outside the worktree (probe 8)', async () => {
    expect(await leaks({ 'hard link to the clone config': `ln ${clone()}/config linked-config` })).toEqual([]);
  });

  it('runs npm test of a small project, git status and git log; git commit fails (probe 13)', async () => {
    const tests = await run('npm test');
    expect(tests.kind).toBe('ok');
    expect(tests.output).toContain('1 passing');
    await fs.writeFile(path.join(worktree.dir, 'new.txt'), 'new\n');
    const status = await run('git status --porcelain && git log --format=%s -1');
    expect(status.kind).toBe('ok');
    expect(status.output).toContain('?? new.txt');
    expect(status.output).toContain('Small project');
    const commit = await run('git add new.txt && git -c user.name=a -c user.email=a@b commit -m sneaky');
    expect(commit.kind).toBe('failed');
    expect(await git.git(worktree.dir, 'log', '--format=%s', '-1')).toBe('Small project');
    await fs.rm(path.join(worktree.dir, 'new.txt'));
  });
});

describe('limits (probe 15)', () => {
  it('stops a command that fills its /tmp or writes a file past the size limit, and the next command still runs', async () => {
    const small = await createBubblewrapSandbox({ tmpfsBytes: 16 * 1024 * 1024, maxFileBytes: 24 * 1024 * 1024 });
    const inside = (command: string) => small.run({ command, worktree: worktree.dir, cloneDir: clone(), network: { kind: 'none' }, timeoutMs: 20_000 });
    const tmp = await inside('head -c 20000000 /dev/zero > /tmp/big');
    expect(tmp.kind).toBe('failed');
    expect(tmp.output).toMatch(/No space left on device/);
    const file = await inside('head -c 32000000 /dev/zero > big.bin');
    expect(file.kind).toBe('failed');
    expect((await fs.stat(path.join(worktree.dir, 'big.bin'))).size).toBeLessThanOrEqual(24 * 1024 * 1024);
    await fs.rm(path.join(worktree.dir, 'big.bin'));
    expect((await inside('echo still serving')).output).toContain('still serving');
  });
});

describe('failing closed', () => {
  it('refuses every command with a sentence when bwrap is missing, and runs nothing (probe 12)', async () => {
    const missing = startSandbox({ mode: 'bubblewrap', readOnly: [], bwrap: path.join(git.root, 'no-such-bwrap') }, pino({ level: 'silent' }));
    expect(await missing.ready).toMatchObject({ kind: 'unavailable' });
    const result = await missing.run({ command: 'touch ran', worktree: worktree.dir, cloneDir: clone(), network: { kind: 'none' }, timeoutMs: 5000 });
    expect(result.kind).toBe('refused');
    expect(result.output).toMatch(/^Commands are refused because the sandbox cannot run on this deployment \(.*bwrap is not installed.*\)\. The operator should install bubblewrap/);
    await expect(fs.access(path.join(worktree.dir, 'ran'))).rejects.toThrow();
  });

  it('passes its self-test where bubblewrap works', async () => {
    const working = startSandbox({ mode: 'bubblewrap', readOnly: [] }, pino({ level: 'silent' }));
    expect(await working.ready).toEqual({ kind: 'ready' });
  });
});
