import { launch, type Launched } from '../process/launcher.js';

export interface ShellResult {
  /** ok: exit 0; failed: another exit code; timeout / cancelled: killed by us. */
  kind: 'ok' | 'failed' | 'timeout' | 'cancelled';
  exitCode: number | null;
  /** stdout and stderr interleaved, cut to `maxOutputBytes` (the cut is marked). */
  output: string;
  durationMs: number;
}

export interface ShellOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  maxOutputBytes?: number;
  /** Which part of output beyond the cap is kept: the start (the default) or the end. */
  keep?: 'head' | 'tail';
  signal?: AbortSignal;
  stdin?: string;
}

/** Runs a command line with `sh -c`, as runProcess does. */
export function runShell(command: string, options: ShellOptions): Promise<ShellResult> {
  return runProcess('/bin/sh', ['-c', command], options);
}

/**
 * Runs a program in its own process group, so that a timeout or cancellation kills everything it
 * started, not only the program. Output beyond the cap is dropped as it arrives (its size is still
 * counted) so that a command printing gigabytes cannot exhaust memory.
 */
export function runProcess(program: string, args: readonly string[], options: ShellOptions): Promise<ShellResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = launch(program, args, { cwd: options.cwd, env: options.env, detached: true, stdin: options.stdin !== undefined });
    const output = boundedOutput(options.maxOutputBytes ?? 64 * 1024, options.keep ?? 'head');
    child.stdout.on('data', output.add);
    child.stderr.on('data', output.add);
    if (options.stdin !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(options.stdin);
    }
    const ending = watchEnd(child, options, (exitCode, killedFor) => resolve({
      kind: killedFor ?? (exitCode === 0 ? 'ok' : 'failed'), exitCode, output: output.text(), durationMs: Date.now() - started,
    }));
    child.on('error', (error: Error) => {
      output.add(Buffer.from(String(error.message)));
      ending.finish(null);
    });
  });
}

/**
 * Calls `done` once, when the process has ended: it exited and its output drained, or it was killed
 * at its time limit or on cancellation. Whatever ends it, its whole process group is killed too.
 */
function watchEnd(
  child: Launched, options: Pick<ShellOptions, 'timeoutMs' | 'signal'>,
  done: (exitCode: number | null, killedFor: 'timeout' | 'cancelled' | undefined) => void,
): { finish(exitCode: number | null): void } {
  let killedFor: 'timeout' | 'cancelled' | undefined;
  let finished = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const finish = (exitCode: number | null) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (graceTimer) clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onAbort);
    child.kill('SIGKILL', true);
    done(exitCode, killedFor);
  };
  // A process that left the group (setsid) can hold the pipes open for ever: once the program is
  // gone or killed, give the output a moment to drain, then stop waiting for it.
  const stopWaitingSoon = () => {
    graceTimer ??= setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      finish(child.exitCode ?? null);
    }, 2000);
  };
  const kill = (why: 'timeout' | 'cancelled') => {
    killedFor ??= why;
    child.kill('SIGKILL', true);
    stopWaitingSoon();
  };
  const timer = setTimeout(() => kill('timeout'), options.timeoutMs);
  const onAbort = () => kill('cancelled');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // the program may exit while a process it started in the background still holds the pipes open
  child.on('exit', () => {
    child.kill('SIGKILL', true);
    stopWaitingSoon();
  });
  child.on('close', (code: number | null) => finish(code));
  return { finish };
}

/**
 * A command's stdout and stderr as they arrive, kept to `max` bytes: its start (`head`) or its end
 * (`tail`), dropping the rest at once (its size still counted), so that a command printing
 * gigabytes fills neither the memory nor the disk. The text marks the cut.
 */
function boundedOutput(max: number, keep: 'head' | 'tail'): { add(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  return {
    add(chunk) {
      total += chunk.length;
      if (keep === 'tail') {
        chunks.push(chunk);
        kept += chunk.length;
        while (chunks.length > 1 && kept - chunks[0]!.length >= max) kept -= chunks.shift()!.length;
      } else if (kept < max) {
        const part = chunk.subarray(0, max - kept);
        chunks.push(part);
        kept += part.length;
      }
    },
    text() {
      if (keep === 'head') {
        const head = Buffer.concat(chunks).toString('utf8');
        return total > kept ? `${head}\n[output cut: ${total - kept} more bytes not shown]` : head;
      }
      const all = Buffer.concat(chunks);
      const tail = all.subarray(Math.max(0, all.length - max));
      const text = tail.toString('utf8');
      return total > tail.length ? `[output cut: ${total - tail.length} earlier bytes not shown]\n${text}` : text;
    },
  };
}
