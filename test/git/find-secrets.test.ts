import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { appSecrets, findSecrets } from '../../src/git/find-secrets.js';
import { SecretInPushError } from '../../src/git/push-to-remote.js';
import { Workspace } from '../../src/git/workspace.js';
import { commitAll } from '../../src/git/worktree-git.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import type { Worktree } from '../../src/git/worktree.js';

const WEBHOOK_SECRET = 'whsec-0123456789abcdef-sentinel';
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAx1vFakeKeyMaterialForTheTestsOnlyAAAAAAAAAAAAAAAAAAA',
  'Q2hlY2tpbmdUaGVTZWNvbmRMaW5lT2ZUaGVLZXlJc0Fsc29Gb3VuZEJ5VGhlU2Nhbg',
  '-----END RSA PRIVATE KEY-----',
].join('\n');
const secrets = [{ name: 'WEBHOOK_SECRET', value: WEBHOOK_SECRET }, { name: 'PRIVATE_KEY', value: PEM }];

describe('findSecrets', () => {
  it('finds a secret written plainly, and names it without its value', () => {
    expect(findSecrets(`+const s = "${WEBHOOK_SECRET}";\n`, secrets)).toEqual(['WEBHOOK_SECRET']);
  });

  it.each([0, 1, 2])('finds it base64-encoded after %i bytes of other text', (offset) => {
    const encoded = Buffer.from(`${'x'.repeat(offset)}${WEBHOOK_SECRET} and more`).toString('base64');
    expect(findSecrets(`+${encoded}\n`, secrets)).toEqual(['WEBHOOK_SECRET']);
  });

  it('finds base64 wrapped over several added lines, as `base64` prints it', () => {
    const wrapped = execFileSync('base64', { input: `${'filler '.repeat(20)}${WEBHOOK_SECRET}` }).toString();
    expect(wrapped.trim().split('\n').length).toBeGreaterThan(1);
    expect(findSecrets(wrapped.trim().split('\n').map((line) => `+${line}`).join('\n'), secrets)).toEqual(['WEBHOOK_SECRET']);
  });

  it('finds one line of a private key copied out of its PEM', () => {
    expect(findSecrets(`+key: ${PEM.split('\n')[2]}\n`, secrets)).toEqual(['PRIVATE_KEY']);
  });

  it('finds nothing in ordinary changes', () => {
    expect(findSecrets('+const greeting = "Hi";\n-const greeting = "Hello";\n', secrets)).toEqual([]);
  });

  it("reads the app's secrets from the deployment's variables and the key file", async () => {
    const dir = await fs.mkdtemp(path.join('/tmp', 'key-'));
    await fs.writeFile(path.join(dir, 'app.pem'), PEM);
    expect(appSecrets({ WEBHOOK_SECRET, PRIVATE_KEY_PATH: path.join(dir, 'app.pem'), UNRELATED: 'x' })).toEqual([
      { name: 'WEBHOOK_SECRET', value: WEBHOOK_SECRET }, { name: 'PRIVATE_KEY_PATH', value: PEM },
    ]);
    await fs.rm(dir, { recursive: true });
  });
});

describe('the pre-push scan', () => {
  let git: GitSandbox;
  let workspace: Workspace;
  let worktree: Worktree;
  const bot = { name: 'bot', email: 'bot@example.com' };

  beforeEach(async () => {
    git = await createGitSandbox();
    workspace = new Workspace({ workDir: path.join(git.root, 'work'), log: pino({ level: 'silent' }), env: git.gitEnv, secrets });
    const repo = { owner: 'o', repo: 'r', cloneUrl: git.remoteUrl };
    await workspace.sync(repo);
    worktree = await workspace.addWorktree(repo, { name: 'issue-1', branch: 'agent/issue-1', startPoint: 'origin/main' });
  });

  afterEach(async () => {
    await git.cleanup();
  });

  it.each([
    ['plain', WEBHOOK_SECRET],
    ['base64', Buffer.from(`token=${WEBHOOK_SECRET}`).toString('base64')],
  ])('refuses a push whose commits hold the webhook secret (%s), and nothing reaches the remote', async (_how, content) => {
    await fs.writeFile(path.join(worktree.dir, 'loot.txt'), `${content}\n`);
    await commitAll(worktree.dir, { message: 'loot', author: bot });
    const pushing = workspace.push(worktree, { token: 'ghs_installation_token_123456' });
    await expect(pushing).rejects.toBeInstanceOf(SecretInPushError);
    await expect(workspace.push(worktree)).rejects.toThrow(
      "Nothing was pushed: the changes contain the app's own secret (WEBHOOK_SECRET), as written or base64-encoded.",
    );
    expect(await git.remoteBranches()).toEqual(['main']);
  });

  it('refuses a push holding the installation token it would be pushed with', async () => {
    await fs.writeFile(path.join(worktree.dir, 'token.txt'), 'ghs_installation_token_123456\n');
    await commitAll(worktree.dir, { message: 'token', author: bot });
    await expect(workspace.push(worktree, { token: 'ghs_installation_token_123456' })).rejects.toThrow('(the installation token)');
  });

  it('pushes ordinary changes', async () => {
    await fs.writeFile(path.join(worktree.dir, 'ok.txt'), 'fine\n');
    const sha = await commitAll(worktree.dir, { message: 'ok', author: bot });
    expect(await workspace.push(worktree)).toEqual({ kind: 'pushed', sha });
  });
});
