import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { launch, runToEnd, type Launched } from '../../src/process/launcher.js';
import { compileApp } from '../support/app-process.js';
import { waitUntil } from '../support/app-on-local-github.js';
import { isAlive, parentOf } from '../support/process-state.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'launcher-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** The first line a launched program prints (here: its pid, or that of a program it started). */
function firstLine(child: Launched): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
  });
}

function closed(child: Launched): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => child.on('close', (code: number | null, signal: string | null) => resolve({ code, signal })));
}

describe('the process launcher', () => {
  it('starts programs from a process of its own, with exactly the environment given', async () => {
    const result = await runToEnd('sh', ['-c', 'echo $PPID; /usr/bin/env'], { cwd: dir, env: { ...env, ONLY_THIS: 'yes' }, maxBuffer: 1 << 20 });
    const [parent, ...variables] = result.stdout.trim().split('\n');
    expect(Number(parent)).not.toBe(process.pid);
    expect(parentOf(Number(parent))).toBe(process.pid);
    expect(readFileSync(`/proc/${parent}/cmdline`, 'utf8').split('\0').slice(1, 2)).toEqual(['-e']);
    // sh adds PWD (and keeps nothing of the test's own environment, its secrets included)
    expect(variables.filter((v) => !v.startsWith('PWD=')).sort()).toEqual([`ONLY_THIS=yes`, `PATH=${env.PATH}`]);
    expect(readFileSync(`/proc/${parent}/environ`, 'utf8').split('\0').filter((v) => !v.startsWith('NODE_CHANNEL_'))).toEqual(['']);
  });

  it('passes stdin, stdout, stderr and the exit code, in the folder given', async () => {
    const result = await runToEnd('sh', ['-c', 'pwd; cat; echo oops >&2; exit 3'], { cwd: dir, env, input: 'from stdin', maxBuffer: 1 << 20 });
    expect(result).toEqual({ code: 3, stdout: `${dir}\nfrom stdin`, stderr: 'oops\n' });
  });

  it('passes 20 MB of output whole, and kills a program that prints more than it may', async () => {
    const whole = await runToEnd('sh', ['-c', 'head -c 20000000 /dev/zero | tr "\\0" a'], { cwd: dir, env, maxBuffer: 64 << 20 });
    expect(whole.stdout.length).toBe(20_000_000);
    expect(whole.stdout.replaceAll('a', '')).toBe('');
    await expect(runToEnd('sh', ['-c', 'yes'], { cwd: dir, env, maxBuffer: 1 << 20 })).rejects.toMatchObject({ code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' });
  });

  it('says when a program cannot start', async () => {
    await expect(runToEnd('no-such-program-here', [], { cwd: dir, env, maxBuffer: 1024 })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops a program when its run is aborted', async () => {
    const pidFile = path.join(dir, 'aborted.pid');
    const controller = new AbortController();
    const run = runToEnd('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`], { cwd: dir, env, signal: controller.signal, maxBuffer: 1024 });
    const pid = await waitUntil('the program to start', async () => Number(await readFile(pidFile, 'utf8').catch(() => '')) || undefined);
    controller.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await waitUntil('the program to be gone', () => !isAlive(pid));
  });

  it('kills a detached program with everything it started, as a group', async () => {
    const child = launch('sh', ['-c', 'sleep 30 & echo $!; wait'], { cwd: dir, env, detached: true });
    const grandchild = Number(await firstLine(child));
    const end = closed(child);
    child.kill('SIGKILL', true);
    expect(await end).toEqual({ code: null, signal: 'SIGKILL' });
    await waitUntil('the program it started to be gone', () => !isAlive(grandchild));
  });

  it('tells the caller when the launcher dies under a program, stops that program, and starts a new launcher for the next', async () => {
    const child = launch('sh', ['-c', 'echo $$; exec sleep 30'], { cwd: dir, env });
    const pid = Number(await firstLine(child));
    const failed = new Promise<Error>((resolve) => child.on('error', resolve));
    process.kill(parentOf(pid), 'SIGKILL');
    expect(await failed).toMatchObject({ code: 'ELAUNCHER', message: expect.stringContaining('the process launcher stopped (SIGKILL)') });
    await waitUntil('the program to be stopped', () => !isAlive(pid));
    expect(await runToEnd('sh', ['-c', 'echo again'], { cwd: dir, env, maxBuffer: 1024 })).toMatchObject({ code: 0, stdout: 'again\n' });
  });

  it('outlives no app: an app killed with SIGKILL takes its programs with it, and an idle launcher never keeps an app up', async () => {
    const launcherModule = path.join(path.dirname(await compileApp()), 'process', 'launcher.js');
    const script = path.join(dir, 'app.mjs');
    await writeFile(script, [
      `import { launch, runToEnd } from ${JSON.stringify(launcherModule)};`,
      `const env = { PATH: ${JSON.stringify(env.PATH)} };`,
      `await runToEnd('true', [], { cwd: '/', env, maxBuffer: 1024 });`,
      `if (process.argv[2] === 'hold') launch('sh', ['-c', 'sleep 30 & echo $!; wait'], { cwd: '/', env, detached: true }).stdout.pipe(process.stdout);`,
    ].join('\n'));
    // done with its work, the app ends by itself
    const idle = spawn(process.execPath, [script], { stdio: 'ignore' });
    expect(await new Promise((resolve) => idle.on('exit', resolve))).toBe(0);

    const holding = spawn(process.execPath, [script, 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sleeper = await new Promise<number>((resolve) => holding.stdout.on('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    expect(isAlive(sleeper)).toBe(true);
    holding.kill('SIGKILL');
    await waitUntil('the programs of the killed app to be gone', () => !isAlive(sleeper));
  });
});
