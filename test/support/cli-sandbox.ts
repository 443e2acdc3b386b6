import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import type { AgentBudget, AgentRequest } from '../../src/agents/agent.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { createGitSandbox, type GitSandbox } from './git-sandbox.js';
import { testSandbox } from './test-sandbox.js';

/** The project's node_modules, where the agent CLIs the tests run are installed (dev dependencies). */
const NODE_MODULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules');

interface CliSandbox {
  /** The real sandbox, with node_modules visible (read-only) so that the CLIs can run inside. */
  sandbox: Sandbox;
  /** Every `host:port` the sandbox's proxy refused a command, in order: a CLI reaching for more than its API shows here. */
  refused: string[];
  /** Puts PATH back as it was. */
  restore(): void;
}

/**
 * For tests of a real agent CLI: node_modules/.bin first on PATH (the sandbox keeps the caller's
 * PATH), node_modules readable inside, and the refused connections recorded.
 */
async function startCliSandbox(): Promise<CliSandbox> {
  const inner = await testSandbox({ readOnly: [NODE_MODULES] });
  const savedPath = process.env.PATH;
  process.env.PATH = `${path.join(NODE_MODULES, '.bin')}${path.delimiter}${savedPath ?? ''}`;
  const refused: string[] = [];
  return {
    sandbox: {
      async run(request) {
        const result = await inner.run(request);
        if ('refusedHosts' in result && result.refusedHosts) refused.push(...result.refusedHosts);
        return result;
      },
    },
    refused,
    restore: () => {
      process.env.PATH = savedPath;
    },
  };
}

export interface CliFixture<Api> {
  /** The sandbox the agent runs in. */
  readonly sandbox: Sandbox;
  /** The `host:port`s the sandbox's proxy refused during this test, in order. */
  readonly refused: string[];
  /** This test's fake of the model API. */
  readonly api: Api;
  readonly git: GitSandbox;
  /** This test's clone of the remote's main. */
  readonly worktree: string;
  /** A request to work in the worktree on the fixture's task, within its budget. */
  request(overrides?: Partial<AgentRequest>): AgentRequest;
}

/**
 * Sets up the tests of a real agent CLI (hooks where it is called): one CLI sandbox for them all; for each test a
 * new git sandbox (with `commit` on the remote's main, when given) cloned to the worktree, and a new fake API.
 */
export function useCliFixture<Api extends { close(): Promise<void> }>(options: {
  startApi: () => Promise<Api>;
  task: string;
  budget: AgentBudget;
  commit?: { files: Record<string, string>; message: string };
}): CliFixture<Api> {
  let cli: CliSandbox;
  let api: Api;
  let git: GitSandbox;
  let worktree: string;

  beforeAll(async () => {
    cli = await startCliSandbox();
  });

  afterAll(() => {
    cli.restore();
  });

  beforeEach(async () => {
    git = await createGitSandbox();
    if (options.commit) await git.commitToRemote('main', options.commit.files, options.commit.message);
    worktree = path.join(git.root, 'worktree');
    await git.git(git.root, 'clone', '--quiet', git.remoteUrl, worktree);
    api = await options.startApi();
    cli.refused.length = 0;
  });

  afterEach(async () => {
    await api.close();
    await git.cleanup();
  });

  return {
    get sandbox() {
      return cli.sandbox;
    },
    get refused() {
      return cli.refused;
    },
    get api() {
      return api;
    },
    get git() {
      return git;
    },
    get worktree() {
      return worktree;
    },
    request: (overrides = {}) => ({
      worktree,
      cloneDir: path.join(worktree, '.git'),
      task: options.task,
      budget: options.budget,
      signal: new AbortController().signal,
      ...overrides,
    }),
  };
}
