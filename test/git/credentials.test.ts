import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { GitError } from '../../src/git/run-git.js';
import { Workspace } from '../../src/git/workspace.js';
import { commitAll } from '../../src/git/worktree-git.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';

const TOKEN = 'ghs_sandboxToken0123456789abcdefXYZ';
const CREDENTIALS = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

let sandbox: GitSandbox;
let workDir: string;
let workspace: Workspace;

beforeEach(async () => {
  sandbox = await createGitSandbox();
  workDir = path.join(sandbox.root, 'work');
  workspace = new Workspace({ workDir, log: pino({ level: 'silent' }), env: sandbox.gitEnv });
});

afterEach(async () => {
  await sandbox.cleanup();
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(CREDENTIALS);
}

describe('the installation token', () => {
  it('is written to no file under the work directory by sync, worktree and push', async () => {
    const repo = { owner: 'octo', repo: 'app', cloneUrl: sandbox.remoteUrl };
    await workspace.sync(repo, TOKEN);
    const worktree = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1-a', startPoint: 'origin/main' });
    await fs.writeFile(path.join(worktree.dir, 'fix.txt'), 'fixed\n');
    await commitAll(worktree.dir, { message: 'Fix', author: { name: 'bot', email: 'bot@example.com' } }, { env: sandbox.gitEnv });
    expect((await workspace.push(worktree, { token: TOKEN })).kind).toBe('pushed');
    await workspace.sync(repo, TOKEN);

    const files = await filesUnder(workDir);
    expect(files).toContain(path.join(workspace.cloneDir(repo), 'config'));
    for (const file of files) expectNoSecret(await fs.readFile(file, 'latin1'));
  });

  it('does not appear in the error when a push fails', async () => {
    const repo = { owner: 'octo', repo: 'app', cloneUrl: sandbox.remoteUrl };
    await workspace.sync(repo, TOKEN);
    const worktree = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1-a', startPoint: 'origin/main' });
    await fs.rename(sandbox.remoteUrl, `${sandbox.remoteUrl}.gone`);

    const failure = await workspace.push(worktree, { token: TOKEN }).then(() => null, (error: unknown) => error);

    expect(failure).toBeInstanceOf(GitError);
    const error = failure as GitError;
    expect(error.code).toBe(128);
    expect(error.message).toContain('git push');
    expectNoSecret(`${error.message}\n${error.stderr}\n${error.args.join(' ')}\n${error.stack ?? ''}`);
  });

  it('reaches an HTTPS remote as a basic authorization header, and a failed first sync leaves no clone', async () => {
    const seen: Array<string | undefined> = [];
    const server = http.createServer((request, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(403).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const repo = { owner: 'octo', repo: 'app', cloneUrl: `http://127.0.0.1:${port}/octo/app.git` };

      const failure = await workspace.sync(repo, TOKEN).then(() => null, (error: unknown) => error);

      expect(failure).toBeInstanceOf(GitError);
      expectNoSecret((failure as GitError).message);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((header) => header === `basic ${CREDENTIALS}`)).toBe(true);
      await expect(fs.access(workspace.cloneDir(repo))).rejects.toThrow();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is never accepted inside a clone URL', async () => {
    const repo = { owner: 'octo', repo: 'app', cloneUrl: `https://x-access-token:${TOKEN}@github.example/octo/app.git` };

    const failure = await workspace.sync(repo).then(() => null, (error: unknown) => error as Error);

    expect(failure?.message).toBe('refusing a clone URL that carries credentials');
  });
});
