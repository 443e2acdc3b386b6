/**
 * The whole system on one machine: the local GitHub, the scripted model and the real app in its own
 * process, wired together. Used by the fault tests and by `npm run simulate`.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FakeMessagesApi } from './fake-messages-api.js';
import { LocalGitHub } from './local-github/local-github.js';
import { startAppProcess, type AppProcess } from './app-process.js';
import { startScriptedModel } from './scripted-model.js';

export interface System {
  github: LocalGitHub;
  model: FakeMessagesApi;
  /** The app's WORK_DIR; kept across restarts */
  workDir: string;
  app: AppProcess;
  /** Starts the app again (after `app.kill()`), on the same work directory. */
  restart(): Promise<AppProcess>;
  /** Worktree folders left under WORK_DIR/worktrees */
  worktrees(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  /** Extra environment for the app, e.g. `{ MAX_AGENTS: '4', RECONCILE_INTERVAL: '10s' }` */
  env?: Record<string, string>;
  /** The app's entry file (default: src/ compiled for tests) */
  entry?: string;
  /** The model the app talks to (default: the scripted model); closed by `stop`. */
  model?: FakeMessagesApi;
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const github = await LocalGitHub.start();
  const model = options.model ?? await startScriptedModel();
  const root = await mkdtemp(path.join(os.tmpdir(), 'system-'));
  const workDir = path.join(root, 'work');
  const cwd = path.join(root, 'cwd');
  await mkdir(cwd, { recursive: true });
  const start = async () => {
    const app = await startAppProcess({
      cwd,
      ...(options.entry ? { entry: options.entry } : {}),
      env: {
        ...github.appEnv(), WORK_DIR: workDir, ANTHROPIC_API_KEY: 'sk-ant-local', ANTHROPIC_BASE_URL: model.url, ...options.env,
      },
    });
    github.webhooks.url = app.webhookUrl;
    github.webhooks.hold = false;
    return app;
  };
  const system: System = {
    github,
    model,
    workDir,
    app: await start(),
    async restart() {
      system.app = await start();
      return system.app;
    },
    async worktrees() {
      const base = path.join(workDir, 'worktrees');
      const found: string[] = [];
      for (const entry of await listWhileTheAppWorks(base)) {
        if (entry.isDirectory() && existsSync(path.join(entry.parentPath, entry.name, '.git'))) found.push(path.join(entry.parentPath, entry.name));
      }
      return found;
    },
    async stop() {
      await system.app.kill('SIGKILL');
      await model.close();
      await github.close();
      await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
  return system;
}

/** Polls until `check` returns a value other than undefined/false; throws with `what` after `ms`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The folder's entries, recursively; the app may remove a folder under it while it is listed: then it is listed again. */
async function listWhileTheAppWorks(base: string): Promise<Dirent[]> {
  for (let attempt = 0; ; attempt++) {
    if (!existsSync(base)) return [];
    try {
      return await readdir(base, { recursive: true, withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
}
