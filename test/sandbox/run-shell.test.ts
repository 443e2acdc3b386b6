import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runShell } from '../../src/sandbox/run-shell.js';
import { scrubbedEnv } from '../../src/sandbox/scrubbed-env.js';
import { isAlive } from '../support/process-state.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'run-shell-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const secrets = {
  ...process.env,
  GITHUB_TOKEN: 'ghs_secret1', PRIVATE_KEY: '-----BEGIN RSA', WEBHOOK_SECRET: 'whsec', ANTHROPIC_API_KEY: 'sk-ant-secret',
  APP_ID: '1', SOMETHING_NEW_SECRET: 'later-added',
};

describe('runShell', () => {
  it('runs in the given folder and reports output and exit code', async () => {
    const result = await runShell('pwd; echo oops >&2; exit 3', { cwd: dir, env: scrubbedEnv(process.env, { home: dir }), timeoutMs: 10_000 });
    expect(result).toMatchObject({ kind: 'failed', exitCode: 3 });
    expect(result.output).toContain(dir);
    expect(result.output).toContain('oops');
  });

  it('shows a command no secret of the deployment, only the allow-listed variables', async () => {
    const result = await runShell('env', { cwd: dir, env: scrubbedEnv(secrets, { home: dir }), timeoutMs: 10_000 });
    expect(result.kind).toBe('ok');
    for (const secret of ['ghs_secret1', 'BEGIN RSA', 'whsec', 'sk-ant-secret', 'later-added', 'APP_ID']) {
      expect(result.output).not.toContain(secret);
    }
    expect(result.output).toContain(`HOME=${dir}`);
    expect(result.output).toMatch(/^PATH=/m);
  });

  it('passes exactly the extra variables it is given', async () => {
    const env = scrubbedEnv(secrets, { home: dir, extra: { OPENAI_API_KEY: 'sk-openai' } });
    const result = await runShell('echo "$OPENAI_API_KEY/$ANTHROPIC_API_KEY"', { cwd: dir, env, timeoutMs: 10_000 });
    expect(result.output.trim()).toBe('sk-openai/');
  });

  it('kills the whole process group at the time limit, background children included', async () => {
    const pidFile = path.join(dir, 'bg.pid');
    const result = await runShell(`sleep 300 & echo $! > ${pidFile}; sleep 300`, {
      cwd: dir, env: scrubbedEnv(process.env, { home: dir }), timeoutMs: 500,
    });
    expect(result.kind).toBe('timeout');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(isAlive(pid)).toBe(false);
  });

  it('stops waiting soon after the time limit even when a process that left the group holds the output open', async () => {
    const pidFile = path.join(dir, 'setsid.pid');
    const started = Date.now();
    const result = await runShell(`setsid sh -c 'echo $$ > ${pidFile}; exec sleep 30' & sleep 30`, {
      cwd: dir, env: scrubbedEnv(process.env, { home: dir }), timeoutMs: 300,
    });
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    expect(result.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('kills a running command when the signal aborts', async () => {
    const controller = new AbortController();
    const running = runShell('sleep 300', { cwd: dir, env: scrubbedEnv(process.env, { home: dir }), timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await running).kind).toBe('cancelled');
  });

  it('keeps only the first bytes of a flood of output and says how much was cut', async () => {
    const result = await runShell('head -c 5000000 /dev/zero | tr "\\0" x', {
      cwd: dir, env: scrubbedEnv(process.env, { home: dir }), timeoutMs: 20_000, maxOutputBytes: 1000,
    });
    expect(result.kind).toBe('ok');
    expect(result.output.startsWith('x'.repeat(1000))).toBe(true);
    expect(result.output).toContain('[output cut: 4999000 more bytes not shown]');
  });

  it('keeps only the last bytes of a flood when asked for the end, and says how much came before', async () => {
    const result = await runShell('head -c 5000000 /dev/zero | tr "\\0" x; echo; echo the result', {
      cwd: dir, env: scrubbedEnv(process.env, { home: dir }), timeoutMs: 20_000, maxOutputBytes: 1000, keep: 'tail',
    });
    expect(result.kind).toBe('ok');
    expect(result.output).toBe(`[output cut: 4999012 earlier bytes not shown]\n${'x'.repeat(988)}\nthe result\n`);
  });
});
