import fs from 'node:fs/promises';
import path from 'node:path';
import type { AgentTool, ToolContext } from '../../../src/agents/tools/tool.js';
import { createGitSandbox, type GitSandbox } from '../../support/git-sandbox.js';
import { testSandbox } from '../../support/test-sandbox.js';

/** A real git worktree (of a bare clone of the sandbox remote) and a folder beside it that tools must never reach. */
export interface ToolFixture {
  sandbox: GitSandbox;
  worktree: string;
  outside: string;
  context(overrides?: Partial<ToolContext>): ToolContext;
  /** Validates the input like the agent does, then runs the tool. */
  call(tool: AgentTool, input: unknown, overrides?: Partial<ToolContext>): Promise<string>;
  /** Every file under `outside`, with its content. */
  outsideSnapshot(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

export async function createToolFixture(files: Record<string, string> = {}): Promise<ToolFixture> {
  const sandbox = await createGitSandbox();
  if (Object.keys(files).length > 0) await sandbox.commitToRemote('main', files, 'Seed');
  const bare = path.join(sandbox.root, 'cache.git');
  const worktree = path.join(sandbox.root, 'worktree');
  await sandbox.git(sandbox.root, 'clone', '--quiet', '--bare', sandbox.remoteUrl, bare);
  await sandbox.git(bare, 'worktree', 'add', '--quiet', '-b', 'agent/issue-1', worktree, 'main');
  const outside = path.join(sandbox.root, 'outside');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'outside the worktree\n');

  const commands = await testSandbox();
  const context = (overrides: Partial<ToolContext> = {}): ToolContext => ({
    worktree,
    cloneDir: bare,
    sandbox: commands,
    signal: new AbortController().signal,
    allowedCommands: [],
    commandTimeoutMs: () => 20_000,
    gitEnv: sandbox.gitEnv,
    ...overrides,
  });
  return {
    sandbox,
    worktree,
    outside,
    context,
    call: (tool, input, overrides) => tool.run(tool.input.parse(input), context(overrides)),
    async outsideSnapshot() {
      const snapshot: Record<string, string> = {};
      for (const name of (await fs.readdir(outside, { recursive: true })).sort()) {
        const full = path.join(outside, name);
        const stat = await fs.lstat(full);
        snapshot[name] = stat.isFile() ? await fs.readFile(full, 'utf8') : stat.isDirectory() ? '<dir>' : '<other>';
      }
      return snapshot;
    },
    cleanup: () => sandbox.cleanup(),
  };
}
