import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { finished, PassThrough, Writable } from 'node:stream';

/**
 * Every program the app starts (git, bwrap, an agent CLI) is started by a small helper process, the
 * launcher, not by the app's own. Node starts a program by forking, and a fork copies the page tables
 * of the whole process while its event loop waits: on these machines that is about 5 ms from a fresh
 * Node process and 11–12 ms from one of 150 MB, the app's size with agents at work (24 ms at 1 GB).
 * A run starts 30 or more programs, so 16 agents in one process kept its event loop waiting in fork
 * for about 40 % of the time, and an agent's next turn, a webhook's answer or a hand-off waited with
 * it. The launcher holds nothing but its children: each start costs less, and it costs the app's
 * event loop only two messages. It has an empty environment (a program gets exactly the one its
 * caller gives), and when the app dies, however it dies, the launcher sees its channel close and kills
 * every program it started, so none outlives the app. Written here: a program started elsewhere and
 * driven through a channel is a few dozen lines on Node's own IPC, and no package does only that.
 */

export interface LaunchOptions {
  cwd: string;
  /** The program's whole environment: nothing is inherited. */
  env: Record<string, string>;
  /** The leader of a process group of its own, so that `kill(signal, true)` reaches all it started. */
  detached?: boolean;
  /** Gives the program a stdin to write to (otherwise it reads /dev/null). */
  stdin?: boolean;
}

/** A program started by the launcher: the parts of Node's ChildProcess the app uses. Events: `error`, `exit`, `close`. */
export interface Launched extends EventEmitter {
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly stdin: Writable | null;
  /** Known once the launcher has said it started. */
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  /** Sends `signal` (default SIGTERM) to the program, or to its whole group (`group`, for a `detached` one). Never throws. */
  kill(signal?: NodeJS.Signals, group?: boolean): void;
}

type ToLauncher =
  | { t: 'spawn'; id: number; file: string; args: readonly string[]; cwd: string; env: Record<string, string>; detached: boolean; stdin: boolean }
  | { t: 'in'; id: number; data: Uint8Array }
  | { t: 'in-end'; id: number }
  | { t: 'kill'; id: number; signal: NodeJS.Signals; group: boolean };
type FromLauncher =
  | { t: 'pid'; id: number; pid: number }
  | { t: 'out' | 'err'; id: number; data: Uint8Array }
  | { t: 'error'; id: number; message: string; code: string | undefined }
  | { t: 'exit' | 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

/**
 * The launcher's whole program, run as `node -e` (so it needs no file of its own in any build of the
 * app); it may use nothing from outside its body. Output goes back as it comes, and a program's
 * output is paused while too much of it waits to be sent, so a program printing gigabytes fills no
 * memory here.
 */
function launcherProgram(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- `node -e` runs this as CommonJS
  const { spawn: start } = require('node:child_process') as typeof import('node:child_process');
  const children = new Map<number, { child: ChildProcess; group: boolean }>();
  const send = (message: FromLauncher, sent?: () => void): void => {
    if (process.connected) process.send!(message, undefined, {}, () => sent?.());
  };
  const killAll = (): void => {
    for (const { child, group } of children.values()) {
      try {
        process.kill(group ? -child.pid! : child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // the app decides when its programs stop; a signal to the whole process group must not leave them orphaned
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  process.on('disconnect', () => {
    killAll();
    process.exit(0);
  });
  process.on('message', (message: ToLauncher) => {
    if (message.t === 'spawn') {
      const { id } = message;
      let child: ChildProcess;
      try {
        child = start(message.file, [...message.args], {
          cwd: message.cwd, env: message.env, detached: message.detached, stdio: [message.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        send({ t: 'error', id, message: (error as Error).message, code: (error as NodeJS.ErrnoException).code });
        return;
      }
      children.set(id, { child, group: message.detached });
      if (child.pid !== undefined) send({ t: 'pid', id, pid: child.pid });
      let waiting = 0;
      const forward = (kind: 'out' | 'err') => (data: Buffer) => {
        waiting++;
        if (waiting > 32) {
          child.stdout!.pause();
          child.stderr!.pause();
        }
        send({ t: kind, id, data }, () => {
          waiting--;
          if (waiting < 8) {
            child.stdout!.resume();
            child.stderr!.resume();
          }
        });
      };
      child.stdout!.on('data', forward('out'));
      child.stderr!.on('data', forward('err'));
      child.stdin?.on('error', () => undefined);
      child.on('error', (error: NodeJS.ErrnoException) => {
        children.delete(id);
        send({ t: 'error', id, message: error.message, code: error.code });
      });
      child.on('exit', (code, signal) => send({ t: 'exit', id, code, signal }));
      child.on('close', (code, signal) => {
        children.delete(id);
        send({ t: 'close', id, code, signal });
      });
      return;
    }
    const entry = children.get(message.id);
    if (!entry) return;
    if (message.t === 'in') entry.child.stdin?.write(message.data);
    else if (message.t === 'in-end') entry.child.stdin?.end();
    else {
      try {
        process.kill(message.group && entry.group ? -entry.child.pid! : entry.child.pid!, message.signal);
      } catch {
        // already gone
      }
    }
  });
}

class LaunchedProgram extends EventEmitter implements Launched {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable | null;
  pid: number | undefined;
  exitCode: number | null = null;
  ended = false;

  constructor(readonly id: number, private readonly launcher: Launcher, withStdin: boolean, private readonly detached: boolean) {
    super();
    this.stdin = withStdin ? new Writable({
      write: (chunk: Buffer, _encoding, done) => this.launcher.send({ t: 'in', id, data: chunk }, done),
      final: (done) => this.launcher.send({ t: 'in-end', id }, done),
    }) : null;
    // a caller that stops reading (a program it started in the background holds the output open) is done with it
    const stopped = () => {
      if (this.stdout.destroyed && this.stderr.destroyed) this.end();
    };
    this.stdout.on('close', stopped);
    this.stderr.on('close', stopped);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM', group = false): void {
    if (this.pid === undefined) {
      // not started yet as far as this side knows: the launcher takes it in order, after the start
      if (!this.ended) this.launcher.send({ t: 'kill', id: this.id, signal, group });
      return;
    }
    try {
      process.kill(group && this.detached ? -this.pid : this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** The launcher's word about this program. */
  hear(message: FromLauncher): void {
    switch (message.t) {
      case 'pid':
        this.pid = message.pid;
        return;
      case 'out':
        if (!this.stdout.destroyed) this.stdout.write(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
        return;
      case 'err':
        if (!this.stderr.destroyed) this.stderr.write(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
        return;
      case 'error':
        this.end();
        this.emit('error', Object.assign(new Error(message.message), { code: message.code }));
        return;
      case 'exit':
        this.exitCode = message.code;
        this.emit('exit', message.code, message.signal);
        return;
      case 'close': {
        this.end();
        // as Node's own: 'close' once both streams have given their last data (to no one, if no one reads them)
        const drained = [this.stdout, this.stderr].map((stream) => new Promise<void>((done) => {
          finished(stream, () => done());
          if (stream.readableFlowing !== true) stream.resume();
          stream.end();
        }));
        void Promise.all(drained).then(() => this.emit('close', message.code, message.signal));
      }
    }
  }

  end(): void {
    this.ended = true;
    this.launcher.forget(this.id);
  }
}

/** One launcher process and the programs it runs for this one; a new launcher starts if it dies. */
class Launcher {
  #process: ChildProcess | undefined;
  /** Programs whose end has not been heard yet (nor their output given up by their caller): they keep the app up. */
  readonly #programs = new Map<number, LaunchedProgram>();
  #nextId = 1;

  launch(file: string, args: readonly string[], options: LaunchOptions): Launched {
    const id = this.#nextId++;
    const program = new LaunchedProgram(id, this, options.stdin === true, options.detached === true);
    this.#programs.set(id, program);
    this.#hold(true);
    this.send({ t: 'spawn', id, file, args, cwd: options.cwd, env: options.env, detached: options.detached === true, stdin: options.stdin === true });
    return program;
  }

  send(message: ToLauncher, sent?: (error?: Error | null) => void): void {
    const launcher = this.#started();
    if (!launcher.connected) {
      sent?.(new Error('the process launcher has stopped'));
      return;
    }
    launcher.send(message, undefined, {}, (error) => sent?.(error));
  }

  forget(id: number): void {
    this.#programs.delete(id);
    if (this.#programs.size === 0) this.#hold(false);
  }

  #started(): ChildProcess {
    if (this.#process) return this.#process;
    const launcher = spawn(process.execPath, ['-e', `(${launcherProgram.toString()})()`], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', env: {},
    });
    launcher.on('message', (message: FromLauncher) => this.#programs.get(message.id)?.hear(message));
    const lost = (why: string) => {
      if (this.#process !== launcher) return;
      this.#process = undefined;
      // whatever the dead launcher was running is stopped here, and its callers told why
      for (const program of [...this.#programs.values()]) {
        program.end();
        program.kill('SIGKILL', true);
        program.hear({ t: 'error', id: program.id, message: `the process launcher stopped (${why}) while the program ran`, code: 'ELAUNCHER' });
      }
    };
    launcher.on('error', (error) => lost(error.message));
    launcher.on('exit', (code, signal) => lost(signal ?? `exit ${code}`));
    this.#process = launcher;
    this.#hold(this.#programs.size > 0);
    return launcher;
  }

  /** The app stays up while programs run, as it would for programs of its own, and never for an idle launcher. */
  #hold(busy: boolean): void {
    const launcher = this.#process;
    if (!launcher) return;
    launcher.unref();
    const channel = launcher.channel as { ref(): void; unref(): void } | undefined;
    if (busy) channel?.ref();
    else channel?.unref();
  }
}

const launcher = new Launcher();

/** Starts `file` with `args` from the launcher process. */
export function launch(file: string, args: readonly string[], options: LaunchOptions): Launched {
  return launcher.launch(file, args, options);
}

export interface RunToEndOptions extends Omit<LaunchOptions, 'stdin' | 'detached'> {
  /** Written to the program's stdin, which is then closed. */
  input?: string;
  signal?: AbortSignal;
  /** Beyond this many bytes of stdout or stderr the program is killed and the run rejected. */
  maxBuffer: number;
}

export interface RunToEndResult {
  /** null when the program was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end and collects its output as text (what `execFile` does). Rejects when it
 * could not start, printed more than `maxBuffer`, or `signal` aborted it (an `AbortError`).
 */
export function runToEnd(file: string, args: readonly string[], options: RunToEndOptions): Promise<RunToEndResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const child = launch(file, args, { cwd: options.cwd, env: options.env, stdin: options.input !== undefined });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    // as execFile: the answer is given at once, without waiting for whatever still holds the output open
    const fail = (error: Error, how: NodeJS.Signals) => settle(() => {
      child.kill(how);
      child.stdout.destroy();
      child.stderr.destroy();
      reject(error);
    });
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= options.maxBuffer) into.push(chunk);
      else fail(Object.assign(new Error(`${file} printed more than ${options.maxBuffer} bytes`), { code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' }), 'SIGKILL');
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    const onAbort = () => fail(abortError(signal!), 'SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error: Error) => settle(() => reject(error)));
    child.on('close', (code: number | null) => settle(() => {
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    }));
    child.stdin?.on('error', () => undefined); // the program may exit without reading it; its exit code says why
    child.stdin?.end(options.input);
  });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}
