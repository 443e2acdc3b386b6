import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { searchTool } from '../../../src/agents/tools/search.js';
import { ToolError } from '../../../src/agents/tools/tool.js';
import { createToolFixture, type ToolFixture } from './tool-fixture.js';

let fx: ToolFixture;

beforeEach(async () => {
  fx = await createToolFixture({
    'src/greet.ts': 'export const greet = (name: string) => `Hello ${name}`;\nexport const HELLO = 1;\n',
    'docs/guide.md': '# Guide\nSay hello.\n',
    '.gitignore': 'dist/\n',
  });
});

afterEach(async () => {
  await fx.cleanup();
});

describe('search', () => {
  it('finds matching lines as path:line:text, in new files too but not in ignored or binary ones', async () => {
    await fs.writeFile(path.join(fx.worktree, 'src/new.ts'), 'const x = 1;\n// Hello again\n');
    await fs.mkdir(path.join(fx.worktree, 'dist'));
    await fs.writeFile(path.join(fx.worktree, 'dist/bundle.js'), 'Hello\n');
    await fs.writeFile(path.join(fx.worktree, 'blob.bin'), Buffer.from('Hello\0\x01\x02'));
    expect(await fx.call(searchTool, { pattern: 'Hello' })).toBe('src/greet.ts:1:export const greet = (name: string) => `Hello ${name}`;\nsrc/new.ts:2:// Hello again');
  });

  it('ignores case on request and limits to a path', async () => {
    expect(await fx.call(searchTool, { pattern: 'hello', ignore_case: true })).toBe([
      'docs/guide.md:2:Say hello.',
      'src/app.txt:1:hello',
      'src/greet.ts:1:export const greet = (name: string) => `Hello ${name}`;',
      'src/greet.ts:2:export const HELLO = 1;',
    ].join('\n'));
    expect(await fx.call(searchTool, { pattern: 'hello', ignore_case: true, path: 'docs' })).toBe('docs/guide.md:2:Say hello.');
    expect(await fx.call(searchTool, { pattern: 'hello', ignore_case: true, path: '*.md' })).toBe('docs/guide.md:2:Say hello.');
  });

  it('says when nothing matches, without an error', async () => {
    expect(await fx.call(searchTool, { pattern: 'Goodbye' })).toBe('No matches for `Goodbye`.');
    expect(await fx.call(searchTool, { pattern: 'Hello', path: 'docs' })).toBe('No matches for `Hello` in `docs`.');
  });

  it('treats a pattern starting with - as a pattern', async () => {
    await fs.writeFile(path.join(fx.worktree, 'flags.txt'), 'run with --verbose\n');
    expect(await fx.call(searchTool, { pattern: '--verbose' })).toBe('flags.txt:1:run with --verbose');
  });

  it('caps the output at 200 matches with a note', async () => {
    await fs.writeFile(path.join(fx.worktree, 'many.txt'), Array.from({ length: 450 }, (_, i) => `needle ${i + 1}`).join('\n'));
    const lines = (await fx.call(searchTool, { pattern: 'needle' })).split('\n');
    expect(lines).toHaveLength(201);
    expect(lines[199]).toBe('many.txt:200:needle 200');
    expect(lines[200]).toBe('[Showing 200 of 450 matches; narrow the pattern or give a path to see the rest.]');
  });

  it('refuses paths outside the worktree or in .git, does not follow symlinks, and reports a bad pattern as a tool error', async () => {
    await fs.symlink(fx.outside, path.join(fx.worktree, 'escape'));
    await fs.symlink(path.join(fx.outside, 'secret.txt'), path.join(fx.worktree, 'secret-link'));
    expect(await fx.call(searchTool, { pattern: 'outside the worktree' })).toBe('No matches for `outside the worktree`.');
    await expect(fx.call(searchTool, { pattern: 'x', path: 'escape' })).rejects.toThrow(/symlink that leads outside/);
    await expect(fx.call(searchTool, { pattern: 'x', path: '../outside' })).rejects.toThrow(/outside the repository/);
    await expect(fx.call(searchTool, { pattern: 'x', path: fx.outside })).rejects.toThrow(/outside the repository/);
    await expect(fx.call(searchTool, { pattern: 'x', path: '.git' })).rejects.toThrow(/inside \.git/);
    const bad = fx.call(searchTool, { pattern: 'a\\{1', path: 'src' });
    await expect(bad).rejects.toBeInstanceOf(ToolError);
    await expect(bad).rejects.toThrow(/^The search failed: /);
  });
});
