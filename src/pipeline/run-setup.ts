import type { Sandbox } from '../sandbox/sandbox.js';
import { throwIfAborted } from '../throw-if-aborted.js';
import type { Worktree } from '../git/worktree.js';

export interface SetupRun {
  sandbox: Sandbox;
  worktree: Pick<Worktree, 'dir' | 'cloneDir'>;
  commands: readonly string[];
  /** The only hosts the commands may reach (package registries by default). */
  hosts: readonly string[];
  deadline: number;
  signal: AbortSignal;
}

/**
 * Runs the repository's setup commands in the worktree, each in its own sandbox with the
 * registries as its only network: a sentence saying which failed (or why none could run), or null.
 */
export async function runSetup({ sandbox, worktree, commands, hosts, deadline, signal }: SetupRun): Promise<string | null> {
  for (const command of commands) {
    const result = await sandbox.run({
      command,
      worktree: worktree.dir,
      cloneDir: worktree.cloneDir,
      network: { kind: 'hosts', hosts },
      timeoutMs: Math.max(1000, deadline - Date.now()),
      signal,
      maxOutputBytes: 16 * 1024,
    });
    throwIfAborted(signal);
    if (result.kind === 'refused') return `The setup command \`${command}\` was not run. ${result.output}`;
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
