import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runShell } from '../sandbox/run-shell.js';
import { scrubbedEnv } from '../sandbox/scrubbed-env.js';
import { throwIfAborted } from '../throw-if-aborted.js';

/** Runs the repository's setup commands in the worktree; a sentence saying which failed, or null. */
export async function runSetup(dir: string, commands: string[], deadline: number, signal: AbortSignal): Promise<string | null> {
  if (commands.length === 0) return null;
  // outside the worktree, so that caches written under HOME (npm's, pip's) are not committed
  const home = await mkdtemp(path.join(os.tmpdir(), 'agent-setup-home-'));
  try {
    return await runSetupIn(dir, home, commands, deadline, signal);
  } finally {
    await rm(home, { recursive: true, force: true }).catch(() => {});
  }
}

async function runSetupIn(dir: string, home: string, commands: string[], deadline: number, signal: AbortSignal): Promise<string | null> {
  for (const command of commands) {
    const result = await runShell(command, {
      cwd: dir,
      env: scrubbedEnv(process.env, { home }),
      timeoutMs: Math.max(1000, deadline - Date.now()),
      signal,
      maxOutputBytes: 16 * 1024,
    });
    throwIfAborted(signal);
    if (result.kind !== 'ok') {
      const how = result.kind === 'timeout' ? 'ran out of time' : `exited with ${result.exitCode}`;
      return `The setup command \`${command}\` ${how}:\n\n${tail(result.output, 2000)}`;
    }
  }
  return null;
}


function tail(text: string, max: number): string {
  const cut = text.length > max ? `…${text.slice(-max)}` : text;
  return '```\n' + cut.replaceAll('```', "'''") + '\n```';
}
