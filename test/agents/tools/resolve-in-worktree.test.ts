import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { resolveInWorktree, resolvePathspec } from '../../../src/agents/tools/resolve-in-worktree.js';
import { ToolError } from '../../../src/agents/tools/tool.js';
import { createToolFixture, type ToolFixture } from './tool-fixture.js';

let fx: ToolFixture;

beforeEach(async () => {
  fx = await createToolFixture();
  await fs.symlink(fx.outside, path.join(fx.worktree, 'escape'));
  await fs.symlink(path.join(fx.outside, 'secret.txt'), path.join(fx.worktree, 'link'));
  await fs.symlink(path.join(fx.outside, 'not-yet.txt'), path.join(fx.worktree, 'dangling'));
  await fs.symlink('.git', path.join(fx.worktree, 'gitlink'));
  await fs.symlink('src', path.join(fx.worktree, 'src-link'));
});

afterEach(async () => {
  await fx.cleanup();
});

async function refusal(requested: string, options: { mustExist?: boolean } = {}): Promise<string> {
  try {
    await resolveInWorktree(fx.worktree, requested, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError);
    return (error as Error).message;
  }
  throw new Error(`${requested} was accepted`);
}

describe('resolveInWorktree', () => {
  it('resolves relative paths, absolute paths inside, and new files in new folders', async () => {
    await expect(resolveInWorktree(fx.worktree, 'src/app.txt', { mustExist: true })).resolves.toBe(path.join(fx.worktree, 'src/app.txt'));
    await expect(resolveInWorktree(fx.worktree, './src//../README.md')).resolves.toBe(path.join(fx.worktree, 'README.md'));
    await expect(resolveInWorktree(fx.worktree, path.join(fx.worktree, 'src/app.txt'))).resolves.toBe(path.join(fx.worktree, 'src/app.txt'));
    await expect(resolveInWorktree(fx.worktree, 'new/deeper/file.ts')).resolves.toBe(path.join(fx.worktree, 'new/deeper/file.ts'));
    await expect(resolveInWorktree(fx.worktree, '')).resolves.toBe(fx.worktree);
    await expect(resolveInWorktree(fx.worktree, '.gitignore')).resolves.toBe(path.join(fx.worktree, '.gitignore'));
    await expect(resolveInWorktree(fx.worktree, 'a.git/b')).resolves.toBe(path.join(fx.worktree, 'a.git/b'));
    // a symlink that stays inside is fine
    await expect(resolveInWorktree(fx.worktree, 'src-link/app.txt', { mustExist: true })).resolves.toBe(path.join(fx.worktree, 'src-link/app.txt'));
  });

  it('refuses paths outside the repository', async () => {
    expect(await refusal('../x')).toBe('`../x` is outside the repository; use a path relative to the repository root.');
    expect(await refusal('sub/../../x')).toMatch(/^`sub\/\.\.\/\.\.\/x` is outside the repository/);
    expect(await refusal('..')).toMatch(/outside the repository/);
    expect(await refusal(path.join(fx.outside, 'secret.txt'))).toMatch(/outside the repository/);
    expect(await refusal('/etc/passwd')).toMatch(/outside the repository/);
    expect(await refusal(`${fx.worktree}-other/x`)).toMatch(/outside the repository/);
  });

  it('refuses anything under .git, in any case', async () => {
    expect(await refusal('.git/config')).toBe('`.git/config` is inside .git, which the agent may not touch.');
    expect(await refusal('.GIT/config')).toMatch(/inside \.git/);
    expect(await refusal('.git')).toMatch(/inside \.git/);
    expect(await refusal('src/../.git/hooks/pre-commit')).toMatch(/inside \.git/);
    expect(await refusal('vendor/lib/.Git/config')).toMatch(/inside \.git/);
    expect(await refusal(path.join(fx.worktree, '.git'))).toMatch(/inside \.git/);
    expect(await refusal('gitlink')).toMatch(/symlink into \.git/);
  });

  it('refuses symlinks that lead outside, including dangling ones', async () => {
    expect(await refusal('link')).toBe('`link` is a symlink that leads outside the repository.');
    expect(await refusal('escape/secret.txt')).toBe(
      '`escape` is a symlink that leads outside the repository (`escape/secret.txt` goes through it).');
    expect(await refusal('escape/new/file.txt')).toMatch(/`escape` is a symlink that leads outside/);
    expect(await refusal('dangling')).toMatch(/`dangling` is a symlink whose target does not exist/);
  });

  it('names a missing file when it must exist', async () => {
    expect(await refusal('src/missing.ts', { mustExist: true })).toBe('`src/missing.ts` does not exist.');
  });

  it('turns a glob-ish path filter into a pathspec, refusing escapes', async () => {
    await expect(resolvePathspec(fx.worktree, undefined)).resolves.toBeUndefined();
    await expect(resolvePathspec(fx.worktree, '.')).resolves.toBeUndefined();
    await expect(resolvePathspec(fx.worktree, 'src')).resolves.toBe('src');
    await expect(resolvePathspec(fx.worktree, 'src/*.txt')).resolves.toBe('src/*.txt');
    await expect(resolvePathspec(fx.worktree, '**/*.txt')).resolves.toBe('**/*.txt');
    await expect(resolvePathspec(fx.worktree, path.join(fx.worktree, 'src', '*.txt'))).resolves.toBe('src/*.txt');
    await expect(resolvePathspec(fx.worktree, '../*')).rejects.toThrow(/outside the repository/);
    await expect(resolvePathspec(fx.worktree, 'src/*/../../..')).rejects.toThrow(/outside the repository/);
    await expect(resolvePathspec(fx.worktree, '.git/*')).rejects.toThrow(/inside \.git/);
    await expect(resolvePathspec(fx.worktree, 'escape/*')).rejects.toThrow(/symlink that leads outside/);
  });
});
