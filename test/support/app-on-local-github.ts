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
import { runGit } from '../../src/git/run-git.js';

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
  /** Worktrees still on a branch or with changes in them: the idle ones kept for reuse are detached and clean. */
  worktreesInUse(): Promise<string[]>;
  /** One more app process on the same GitHub and model, with its own work directory (a fleet's second process); stopped with the system. */
  startAnother(env?: Record<string, string>): Promise<AppProcess>;
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
  const launch = (dir: string, work: string, env: Record<string, string> = {}) => startAppProcess({
    cwd: dir,
    ...(options.entry ? { entry: options.entry } : {}),
    env: { ...github.appEnv(), WORK_DIR: work, ANTHROPIC_API_KEY: 'sk-ant-local', ANTHROPIC_BASE_URL: model.url, ...options.env, ...env },
  });
  const start = async () => {
    const app = await launch(cwd, workDir);
    github.webhooks.url = app.webhookUrl;
    github.webhooks.hold = false;
    return app;
  };
  const others: AppProcess[] = [];
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
    async worktreesInUse() {
      const inUse: string[] = [];
      for (const dir of await system.worktrees()) {
        const branch = await runGit(['symbolic-ref', '--quiet', 'HEAD'], { cwd: dir, expectedExitCodes: [1] });
        const dirty = await runGit(['status', '--porcelain'], { cwd: dir });
        if (branch.code === 0 || dirty.trim() !== '') inUse.push(`${dir}: ${branch.stdout.trim() || 'detached'} ${dirty.trim()}`);
      }
      return inUse;
    },
    async startAnother(env) {
      const dir = path.join(root, `other-${others.length + 1}`);
      await mkdir(dir, { recursive: true });
      const other = await launch(dir, path.join(dir, 'work'), env);
      others.push(other);
      return other;
    },
    async stop() {
      for (const other of others) await other.kill('SIGKILL');
      await system.app.kill('SIGKILL');
      await model.close();
      await github.close();
      await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
  return system;
}

/** An issue's run is over: it failed, or its PR is open and its labels say so (none still says it is working). */
export function issueSettled(github: LocalGitHub, repo: string, issue: number): boolean {
  const labels = github.issue(repo, issue).labels;
  return labels.includes('agent:failed') ||
    (github.pullsFor(repo, issue).length > 0 && labels.includes('agent:pr-opened') && !labels.includes('agent:working'));
}

/**
 * Waits until each process has finished its start-up reconcile: a test that labels an issue before
 * then may see that pass ask for the issue again.
 */
export function reconciledAtStart(...processes: AppProcess[]): Promise<true> {
  return waitUntil('the start-up reconcile of every process', () => processes.every((p) => p.output().includes('"msg":"start-up reconcile done"')));
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
