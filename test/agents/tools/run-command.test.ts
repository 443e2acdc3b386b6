import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { allowedCommandLine, runCommandTool } from '../../../src/agents/tools/run-command.js';
import { ToolError } from '../../../src/agents/tools/tool.js';
import { createToolFixture, type ToolFixture } from './tool-fixture.js';

let fx: ToolFixture;

beforeEach(async () => {
  fx = await createToolFixture({ 'check.sh': 'echo "checked $*"\n' });
});

afterEach(async () => {
  await fx.cleanup();
});

const run = (command: string, allowedCommands: string[], timeoutMs = 20_000) =>
  fx.call(runCommandTool, { command }, { allowedCommands, commandTimeoutMs: () => timeoutMs });

async function refusal(command: string, allowedCommands: string[]): Promise<string> {
  try {
    await run(command, allowedCommands);
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError);
    return (error as Error).message;
  }
  throw new Error(`${command} ran`);
}

describe('which commands may run', () => {
  it('matches exact entries after trimming and collapsing whitespace, running the entry itself', () => {
    expect(allowedCommandLine('  npm   test ', ['npm test'])).toBe('npm test');
    expect(allowedCommandLine('npm\ntest', ['npm test'])).toBe('npm test');
    expect(allowedCommandLine('npm test --watch', ['npm test'])).toEqual({});
    expect(allowedCommandLine('npm tes', ['npm test'])).toEqual({});
  });

  it('lets an entry ending in ` *` take arguments that cannot chain another command', () => {
    const allowed = ['npm test *'];
    expect(allowedCommandLine('npm test -- src/a.test.ts', allowed)).toBe('npm test -- src/a.test.ts');
    expect(allowedCommandLine('npm  test   "a b"', allowed)).toBe('npm test "a b"');
    expect(allowedCommandLine('npm test', allowed)).toBe('npm test');
    expect(allowedCommandLine('npm testing', allowed)).toEqual({});
    expect(allowedCommandLine('npx test x', allowed)).toEqual({});
    expect(allowedCommandLine('npm testing;x', allowed)).toEqual({});
    expect(allowedCommandLine('npm test;x', allowed)).toEqual({ reason: 'arguments to `npm test *` may not contain `;`, which could run another command' });
    for (const bad of ['npm test; rm -rf /', 'npm test && curl x', 'npm test | sh', 'npm test `id`', 'npm test $(id)',
      'npm test > /etc/x', 'npm test < /etc/passwd', 'npm test x\nrm -rf /', 'npm test x & sleep 1', 'npm\ntest x']) {
      expect(allowedCommandLine(bad, allowed)).not.toEqual(expect.any(String));
    }
  });

  it('refuses a command that is not on the list, listing the allowed ones', async () => {
    expect(await refusal('cat /etc/passwd', ['npm test', 'npm run lint *'])).toBe(
      '`cat /etc/passwd` is not allowed. Allowed commands: `npm test`, `npm run lint *` (an entry ending in ` *` takes arguments).');
    expect(await refusal('ls', [])).toBe('`ls` is not allowed. No commands are allowed in this repository.');
  });

  it('refuses `npm test; rm -rf /` against `npm test *`, and runs nothing', async () => {
    await fs.writeFile(path.join(fx.worktree, 'keep.txt'), 'keep\n');
    const message = await refusal('npm test; rm -rf keep.txt', ['npm test *']);
    expect(message).toBe('`npm test; rm -rf keep.txt` is not allowed: arguments to `npm test *` may not contain `;`, which could run another command. '
      + 'Allowed commands: `npm test *` (an entry ending in ` *` takes arguments).');
    expect(await refusal('npm test; rm -rf /', ['npm test *'])).toMatch(/not allowed/);
    expect(await fs.readFile(path.join(fx.worktree, 'keep.txt'), 'utf8')).toBe('keep\n');
  });
});

describe('run_command', () => {
  it('runs an allowed command in the worktree and reports the exit code and output', async () => {
    expect(await run('sh check.sh one two', ['sh check.sh *'])).toBe('exit code 0\nchecked one two');
    expect(await run('pwd', ['pwd'])).toBe(`exit code 0\n${fx.worktree}`);
  });

  it('reports a failing command as a normal result, not an error', async () => {
    expect(await run('sh -c "echo broken >&2; exit 3"', ['sh -c "echo broken >&2; exit 3"'])).toBe('exit code 3\nbroken');
    expect(await run('true', ['true'])).toBe('exit code 0\n(no output)');
  });

  it('shows no secret in the environment, and a HOME outside the worktree', async () => {
    const secrets: Record<string, string> = {
      GITHUB_TOKEN: 'ghs_faketoken123', PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----fake', WEBHOOK_SECRET: 'whsec_fake',
      ANTHROPIC_API_KEY: 'sk-ant-fake', GH_TOKEN: 'gho_fake', OPENAI_API_KEY: 'sk-openai-fake',
    };
    const saved = Object.fromEntries(Object.keys(secrets).map((name) => [name, process.env[name]]));
    Object.assign(process.env, secrets);
    try {
      const out = await run('env', ['env']);
      expect(out).toMatch(/^exit code 0\n/);
      expect(out).toMatch(/^PATH=/m);
      for (const [name, value] of Object.entries(secrets)) {
        expect(out).not.toContain(value);
        expect(out).not.toContain(`${name}=`);
      }
      // the sandbox's own HOME, a private tmpfs gone with it
      expect(out).toMatch(/^HOME=\/home\/agent$/m);
      expect(existsSync('/home/agent')).toBe(false);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('kills a command that runs past its time limit, with everything it started, and says so', async () => {
    const command = '(sleep 1; touch late.txt) & sleep 30';
    const started = Date.now();
    const out = await run(command, [command], 400);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out).toBe('timed out after 0.4 s; the command and every process it started were killed\n(no output)');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(existsSync(path.join(fx.worktree, 'late.txt'))).toBe(false);
  });

  it('stops a command when the run is cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const out = await fx.call(runCommandTool, { command: 'sleep 30' }, { allowedCommands: ['sleep 30'], signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out).toMatch(/^cancelled/);
  });

  it('cuts long output', async () => {
    const command = 'seq 1 100000';
    const out = await run(command, [command]);
    expect(out.length).toBeLessThan(31_000);
    expect(out).toMatch(/\[output cut: \d+ more bytes not shown\]$/);
  });
});
