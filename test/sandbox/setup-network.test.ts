/**
 * `map.setup` in the sandbox: the package registries are reachable through the app's proxy, and
 * nothing else is. This reaches the real npm registry (the one network these machines have).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Workspace } from '../../src/git/workspace.js';
import { runSetup } from '../../src/pipeline/run-setup.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { DEFAULT_SETUP_HOSTS } from '../../src/settings/load-settings.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import { testSandbox } from '../support/test-sandbox.js';
import type { Worktree } from '../../src/git/worktree.js';

let git: GitSandbox;
let worktree: Worktree;
let sandbox: Sandbox;

beforeAll(async () => {
  git = await createGitSandbox();
  await git.commitToRemote('main', { 'package.json': '{"name":"small","version":"1.0.0","dependencies":{"is-number":"7.0.0"}}\n' }, 'Depend on is-number');
  const workspace = new Workspace({ workDir: path.join(git.root, 'work'), log: pino({ level: 'silent' }), env: git.gitEnv });
  const repo = { owner: 'o', repo: 'r', cloneUrl: git.remoteUrl };
  await workspace.sync(repo);
  worktree = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1', startPoint: 'origin/main' });
  sandbox = await testSandbox();
});

afterAll(async () => {
  await git.cleanup();
});

const setup = (commands: string[]) => runSetup({
  sandbox, worktree, commands, hosts: DEFAULT_SETUP_HOSTS, deadline: Date.now() + 120_000, signal: new AbortController().signal,
});

describe('setup commands with the registries allowed', () => {
  it('install dependencies from the npm registry through the proxy', async () => {
    expect(await setup(['npm install --no-audit --no-fund --ignore-scripts'])).toBeNull();
    const installed = JSON.parse(await fs.readFile(path.join(worktree.dir, 'node_modules/is-number/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe('7.0.0');
  });

  it('reach no other host: the failure names the refused one', async () => {
    const failure = await setup(['npm view left-pad version --registry=https://registry.example.org/ --fetch-retries=0']);
    expect(failure).toMatch(/^The setup command `npm view .*` exited with 1:/);
    expect(failure).toContain('[sandbox: refused connections to registry.example.org:443: not on the allow list]');
  });
});
