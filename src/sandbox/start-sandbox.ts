import { accessSync, constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { createBubblewrapSandbox } from './bubblewrap-sandbox.js';
import { runShell } from './run-shell.js';
import { refused, type Sandbox, type SandboxRequest, type SandboxResult } from './sandbox.js';
import { scrubbedEnv } from './scrubbed-env.js';

export interface SandboxSettings {
  /** bubblewrap (the default), or off: run unsandboxed, an operator's explicit and loudly logged choice. */
  mode: 'bubblewrap' | 'off';
  /** Host folders every sandbox may read (tools installed outside /usr). */
  readOnly: readonly string[];
  /** The `bwrap` program; default: found on PATH. */
  bwrap?: string;
}

export type SandboxReadiness = { kind: 'ready' } | { kind: 'unsandboxed' } | { kind: 'unavailable'; reason: string };

/**
 * The process's sandbox, failing closed: a self-test runs a few probes inside a sandbox before the
 * first command; if it cannot start or a probe gets through, every command is refused with a sentence
 * saying why and what to do. Nothing falls back to running unsandboxed unless the operator chose
 * `SANDBOX=off`, which is logged at start and on every command.
 */
export function startSandbox(settings: SandboxSettings, log: Logger): Sandbox & { ready: Promise<SandboxReadiness> } {
  if (settings.mode === 'off') {
    log.warn('SANDBOX=off: setup commands, run_command and agent CLIs run UNSANDBOXED, as the app user, with the host network');
    return {
      ready: Promise.resolve({ kind: 'unsandboxed' }),
      run: (request) => {
        log.warn({ command: request.command.slice(0, 200) }, 'running a command UNSANDBOXED (SANDBOX=off)');
        return runUnsandboxed(request);
      },
    };
  }
  const started = selfTest(settings).catch((error: unknown) => ({
    readiness: { kind: 'unavailable', reason: error instanceof Error ? error.message : String(error) } as SandboxReadiness,
    sandbox: undefined,
  }));
  const ready = started.then(({ readiness }) => {
    if (readiness.kind === 'unavailable') log.error({ reason: readiness.reason }, 'sandbox unavailable: commands will be refused');
    else log.info('sandbox ready (bubblewrap)');
    return readiness;
  });
  return {
    ready,
    async run(request: SandboxRequest): Promise<SandboxResult> {
      const { readiness, sandbox } = await started;
      if (!sandbox || readiness.kind === 'unavailable') {
        return refused(`Commands are refused because the sandbox cannot run on this deployment (${readiness.kind === 'unavailable' ? readiness.reason : 'unknown'}). `
          + 'The operator should install bubblewrap and allow user namespaces (see the README\'s Security section).');
      }
      return sandbox.run(request);
    },
  };
}

/** Builds the sandbox and runs probes in it: the app's processes out of sight, the machine read-only, the worktree writable. */
async function selfTest(settings: SandboxSettings): Promise<{ readiness: SandboxReadiness; sandbox: Sandbox | undefined }> {
  if (!findProgram(settings.bwrap ?? 'bwrap')) return { readiness: { kind: 'unavailable', reason: 'bwrap is not installed' }, sandbox: undefined };
  const sandbox = await createBubblewrapSandbox({ readOnly: settings.readOnly, ...(settings.bwrap ? { bwrap: settings.bwrap } : {}) });
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'agent-sandbox-probe-')));
  try {
    const worktree = path.join(root, 'worktree');
    const cloneDir = path.join(root, 'clone.git');
    await fs.mkdir(worktree);
    await fs.mkdir(cloneDir);
    await fs.writeFile(path.join(worktree, '.git'), `gitdir: ${cloneDir}\n`);
    const probes = [
      `test "$(id -u)" = 1000 || { echo "runs as uid $(id -u)"; exit 1; }`,
      `test ! -e /proc/${process.pid} || { echo "the app's process is visible"; exit 1; }`,
      `test ! -e ${JSON.stringify(root)}/outside || exit 1`,
      `if (echo x > /usr/.probe) 2>/dev/null; then echo "/usr is writable"; exit 1; fi`,
      `if (echo x > .git) 2>/dev/null; then echo "the .git file is writable"; exit 1; fi`,
      'echo ok > probe',
    ];
    await fs.writeFile(path.join(root, 'outside'), '');
    const result = await sandbox.run({ command: probes.join('\n'), worktree, cloneDir, network: { kind: 'none' }, timeoutMs: 20_000 });
    const wrote = await fs.readFile(path.join(worktree, 'probe'), 'utf8').catch(() => '');
    if (result.kind === 'ok' && wrote === 'ok\n') return { readiness: { kind: 'ready' }, sandbox };
    const said = result.output.trim().split('\n').find((line) => line.trim() !== '') ?? `exit ${result.exitCode}`;
    return { readiness: { kind: 'unavailable', reason: `its self-test failed: ${said.slice(0, 300)}` }, sandbox: undefined };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** The program's path: as given when it has a slash, else the first on PATH; undefined when there is none. */
function findProgram(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** SANDBOX=off: the command as the app user, with a scrubbed environment and a temporary HOME. */
async function runUnsandboxed(request: SandboxRequest): Promise<SandboxResult> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-home-'));
  try {
    return await runShell(request.command, {
      cwd: request.worktree,
      env: scrubbedEnv(process.env, { home, extra: request.env ?? {} }),
      timeoutMs: request.timeoutMs,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.stdin !== undefined ? { stdin: request.stdin } : {}),
      ...(request.maxOutputBytes !== undefined ? { maxOutputBytes: request.maxOutputBytes } : {}),
      ...(request.keep ? { keep: request.keep } : {}),
    });
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
}
