/**
 * `npm run bench`: what the sandbox costs. The same command runs plainly (`sh -c` in the worktree,
 * the baseline) and in the bubblewrap sandbox, alternately, and the figure is the difference of the
 * medians per command. Target: `sandbox_overhead_ms` under 15.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Workspace } from '../src/git/workspace.js';
import { createBubblewrapSandbox } from '../src/sandbox/bubblewrap-sandbox.js';
import { runShell } from '../src/sandbox/run-shell.js';
import { createGitSandbox } from '../test/support/git-sandbox.js';

const RUNS = Number(process.env.BENCH_SANDBOX_RUNS ?? 60);
const COMMANDS = ['true', 'node -e 0', 'git status --porcelain'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const git = await createGitSandbox();
  try {
    const workspace = new Workspace({ workDir: path.join(git.root, 'work'), log: pino({ level: 'silent' }), env: git.gitEnv });
    const repo = { owner: 'bench', repo: 'sandbox', cloneUrl: git.remoteUrl };
    await workspace.sync(repo);
    const worktree = await workspace.addWorktree(repo, { name: 'bench', branch: 'agent/bench', startPoint: 'origin/main' });
    const sandbox = await createBubblewrapSandbox();
    const overheads: number[] = [];
    for (const command of COMMANDS) {
      const plain: number[] = [];
      const boxed: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        let started = performance.now();
        const a = await runShell(command, { cwd: worktree.dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 30_000 });
        plain.push(performance.now() - started);
        started = performance.now();
        const b = await sandbox.run({ command, worktree: worktree.dir, cloneDir: worktree.cloneDir, network: { kind: 'none' }, timeoutMs: 30_000 });
        boxed.push(performance.now() - started);
        if (a.kind !== 'ok' || b.kind !== 'ok') throw new Error(`${command} failed: ${a.output} ${b.output}`);
      }
      const overhead = median(boxed) - median(plain);
      overheads.push(overhead);
      console.log(JSON.stringify({
        figure: 'sandbox_command_ms', command, value: Number(median(boxed).toFixed(3)), baseline_ms: Number(median(plain).toFixed(3)), runs: RUNS,
      }));
    }
    console.log(JSON.stringify({ figure: 'sandbox_overhead_ms', value: Number(median(overheads).toFixed(3)), target_ms: 15, commands: COMMANDS, runs: RUNS }));
  } finally {
    await git.cleanup();
  }
}

await main();
