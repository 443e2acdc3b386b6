import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { changedFiles, commitAll, diffAgainst, headSha } from '../../src/git/worktree-git.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';

let sandbox: GitSandbox;
let dir: string;
const author = { name: 'Mona Lisa', email: 'mona@example.com' };
const options = () => ({ env: sandbox.gitEnv });

beforeEach(async () => {
  sandbox = await createGitSandbox();
  dir = path.join(sandbox.root, 'checkout');
  await sandbox.git(sandbox.root, 'clone', '--quiet', sandbox.remoteUrl, dir);
});

afterEach(async () => {
  await sandbox.cleanup();
});

const write = async (file: string, content: string) => {
  await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await fs.writeFile(path.join(dir, file), content);
};

describe('changedFiles', () => {
  it('lists added, modified, deleted, renamed and untracked files, staged or not', async () => {
    await fs.writeFile(path.join(dir, '.gitignore'), 'node_modules/\n');
    await sandbox.git(dir, 'add', '.gitignore');
    await sandbox.git(dir, 'commit', '--quiet', '-m', 'Ignore node_modules');
    await write('staged-new.txt', 'new\n');
    await sandbox.git(dir, 'add', 'staged-new.txt');
    await write('src/app.txt', 'modified\n');
    await fs.rm(path.join(dir, '.gitignore'));
    await sandbox.git(dir, 'mv', 'README.md', 'docs-README.md');
    await write('notes/deep/untracked.txt', 'untracked\n');
    await write('node_modules/pkg/index.js', 'ignored?\n');

    expect(await changedFiles(dir, options())).toEqual([
      '.gitignore', 'README.md', 'docs-README.md', 'node_modules/pkg/index.js', 'notes/deep/untracked.txt', 'src/app.txt', 'staged-new.txt',
    ]);
  });

  it('leaves out ignored files and is empty for a clean worktree', async () => {
    expect(await changedFiles(dir, options())).toEqual([]);
    await fs.writeFile(path.join(dir, '.gitignore'), 'node_modules/\n');
    await sandbox.git(dir, 'add', '.gitignore');
    await sandbox.git(dir, 'commit', '--quiet', '-m', 'Ignore node_modules');
    await write('node_modules/pkg/index.js', 'ignored\n');

    expect(await changedFiles(dir, options())).toEqual([]);
  });
});

describe('commitAll', () => {
  it('returns null when there is nothing to commit', async () => {
    const before = await headSha(dir, options());

    expect(await commitAll(dir, { message: 'Nothing', author }, options())).toBeNull();
    expect(await headSha(dir, options())).toBe(before);
  });

  it('commits every change as the given author and committer, message kept verbatim', async () => {
    await write('src/app.txt', 'changed\n');
    await write('added.txt', 'added\n');
    await fs.rm(path.join(dir, 'README.md'));
    const message = 'Change the app\n\n# What changed\n- app.txt\n\nCo-authored-by: Octo Cat <octo@example.com>\n';

    const sha = await commitAll(dir, { message, author }, options());

    expect(sha).toBe(await headSha(dir, options()));
    expect(await changedFiles(dir, options())).toEqual([]);
    const show = (format: string) => sandbox.git(dir, 'show', '--no-patch', `--format=${format}`, 'HEAD');
    expect(await show('%an <%ae>|%cn <%ce>')).toBe('Mona Lisa <mona@example.com>|Mona Lisa <mona@example.com>');
    expect(await show('%B')).toBe(message.trim());
    expect((await sandbox.git(dir, 'show', '--name-status', '--format=', 'HEAD')).split('\n')).toEqual(['D\tREADME.md', 'A\tadded.txt', 'M\tsrc/app.txt']);
  });
});

describe('diffAgainst', () => {
  it('shows what the worktree changed since it forked from the ref, committed or not, and not what the ref gained since', async () => {
    await write('src/app.txt', 'committed\n');
    await commitAll(dir, { message: 'Committed', author }, options());
    await write('README.md', '# Edited\n');
    await sandbox.commitToRemote('main', { 'later.txt': 'on main later\n' }, 'Later on main');
    await sandbox.git(dir, 'fetch', '--quiet', 'origin');

    const diff = await diffAgainst(dir, 'origin/main', options());

    expect(diff).toContain('+committed');
    expect(diff).toContain('+# Edited');
    expect(diff).not.toContain('later.txt');
  });
});
