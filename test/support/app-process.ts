/**
 * The real app in its own process, started the way `npm start` starts it (`node lib/main.js`), so
 * that a test can kill it with SIGKILL and start it again on the same work directory. The TypeScript
 * sources are compiled with swc into `.test-build/`, once for each state of `src/`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';
import { freePort } from './free-port.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let compiled: Promise<string> | undefined;

/**
 * Compiles src/ to JavaScript under `.test-build/app-<hash of the sources>/`; returns the entry file.
 * Unchanged sources reuse the earlier build, and builds of other sources are removed.
 */
export function compileApp(): Promise<string> {
  compiled ??= (async () => {
    const buildRoot = path.join(repoRoot, '.test-build');
    await mkdir(buildRoot, { recursive: true });
    const src = path.join(repoRoot, 'src');
    const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
    const hash = createHash('sha256');
    for (const file of files) hash.update(file).update('\0').update(await readFile(path.join(src, file))).update('\0');
    const name = `app-${hash.digest('hex').slice(0, 16)}`;
    const out = path.join(buildRoot, name);
    if (!existsSync(path.join(out, 'main.js'))) {
      const staging = await mkdtemp(path.join(buildRoot, 'staging-'));
      await Promise.all(files.map(async (file) => {
        const { code } = await transformFile(path.join(src, file), {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' }, sourceMaps: false, swcrc: false,
        });
        const target = path.join(staging, file.replace(/\.ts$/, '.js'));
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, code);
      }));
      // another test process may have finished the same build first: then its copy is used
      await rename(staging, out).catch(() => rm(staging, { recursive: true, force: true }));
    }
    const stale = (await readdir(buildRoot)).filter((entry) => entry !== name && entry.startsWith('app-'));
    await Promise.all(stale.map((entry) => rm(path.join(buildRoot, entry), { recursive: true, force: true })));
    return path.join(out, 'main.js');
  })();
  return compiled;
}

export interface AppProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  webhookUrl: string;
  /** Everything the process wrote, stdout and stderr interleaved */
  output(): string;
  /** Its WORK_DIR (clones and worktrees), when one was given */
  workDir: string | undefined;
  /** Resolves with the exit code or signal when the process ends. */
  exited: Promise<number | NodeJS.Signals | null>;
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

export interface AppProcessOptions {
  /** From LocalGitHub.appEnv(): APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST, GHE_PROTOCOL */
  env: Record<string, string>;
  /** A JavaScript entry file; default: src/ compiled by compileApp() */
  entry?: string;
  /** Where the process runs; Probot reads a `.env` there, so not the repository. */
  cwd: string;
}

export async function startAppProcess(options: AppProcessOptions): Promise<AppProcess> {
  const entry = options.entry ?? (await compileApp());
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.cwd, NODE_ENV: 'production', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
      HOST: '127.0.0.1', PORT: String(port), ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    const state = await Promise.race([exited.then(() => 'exited' as const), fetch(`${url}/`).then(() => 'up' as const, () => 'down' as const)]);
    if (state === 'up') break;
    if (state === 'exited') throw new Error(`the app exited while starting:\n${output}`);
    if (Date.now() - started > 30_000) throw new Error(`the app did not start listening:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    webhookUrl: `${url}/api/github/webhooks`,
    output: () => output,
    workDir: options.env.WORK_DIR,
    exited,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

