import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { editFileTool } from '../../../src/agents/tools/edit-file.js';
import { listFilesTool } from '../../../src/agents/tools/list-files.js';
import { readFileTool } from '../../../src/agents/tools/read-file.js';
import { ToolError, type AgentTool } from '../../../src/agents/tools/tool.js';
import { writeFileTool } from '../../../src/agents/tools/write-file.js';
import { createToolFixture, type ToolFixture } from './tool-fixture.js';

let fx: ToolFixture;

beforeEach(async () => {
  fx = await createToolFixture({
    'src/greet.ts': 'export function greet(name: string) {\n  return `Hello ${name}`;\n}\n\nexport function wave() {\n  return `Hello`;\n}\n',
    '.gitignore': 'ignored/\n',
  });
});

afterEach(async () => {
  await fx.cleanup();
});

const read = (file: string) => fs.readFile(path.join(fx.worktree, file), 'utf8');

async function toolError(tool: AgentTool, input: unknown): Promise<string> {
  try {
    await fx.call(tool, input);
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError);
    return (error as Error).message;
  }
  throw new Error(`${tool.name} accepted ${JSON.stringify(input)}`);
}

describe('escapes through the file tools', () => {
  it('are all refused, and nothing outside the worktree changes', async () => {
    await fs.symlink(fx.outside, path.join(fx.worktree, 'escape'));
    await fs.symlink(path.join(fx.outside, 'secret.txt'), path.join(fx.worktree, 'secret-link'));
    await fs.symlink(path.join(fx.outside, 'created.txt'), path.join(fx.worktree, 'dangling'));
    const gitConfig = path.join(fx.sandbox.root, 'cache.git', 'config');
    const gitConfigBefore = await fs.readFile(gitConfig, 'utf8');
    const gitFileBefore = await read('.git');
    const before = await fx.outsideSnapshot();
    const rootBefore = (await fs.readdir(fx.sandbox.root)).sort();

    const escapes: Array<[string, RegExp]> = [
      ['../x', /outside the repository/],
      [path.join(fx.outside, 'secret.txt'), /outside the repository/],
      ['sub/../../x', /outside the repository/],
      ['escape/secret.txt', /symlink that leads outside/],
      ['secret-link', /symlink that leads outside/],
      ['dangling', /symlink whose target does not exist/],
      ['.git/config', /inside \.git/],
      ['.GIT/config', /inside \.git/],
      ['.git', /inside \.git/],
    ];
    for (const [target, reason] of escapes) {
      expect(await toolError(readFileTool, { path: target })).toMatch(reason);
      expect(await toolError(writeFileTool, { path: target, content: 'pwned\n' })).toMatch(reason);
      expect(await toolError(editFileTool, { path: target, old_string: 'outside', new_string: 'pwned' })).toMatch(reason);
      expect(await toolError(listFilesTool, { path: target })).toMatch(reason);
    }
    expect(await toolError(writeFileTool, { path: 'escape/pwned.txt', content: 'x' })).toMatch(/symlink that leads outside/);
    expect(await toolError(writeFileTool, { path: 'escape/new/deep.txt', content: 'x' })).toMatch(/symlink that leads outside/);
    expect(await toolError(writeFileTool, { path: path.join(fx.outside, 'pwned.txt'), content: 'x' })).toMatch(/outside the repository/);
    expect(await toolError(readFileTool, { path: '.git/HEAD' })).toMatch(/inside \.git/);

    expect(await fx.outsideSnapshot()).toEqual(before);
    expect((await fs.readdir(fx.sandbox.root)).sort()).toEqual(rootBefore);
    expect(existsSync(path.join(fx.sandbox.root, 'x'))).toBe(false);
    expect(await fs.readFile(gitConfig, 'utf8')).toBe(gitConfigBefore);
    expect(await read('.git')).toBe(gitFileBefore);
  });

  it('write_file refuses to write through a symlink even when it stays inside', async () => {
    await fs.symlink('src/greet.ts', path.join(fx.worktree, 'inner-link'));
    expect(await toolError(writeFileTool, { path: 'inner-link', content: 'x' })).toMatch(/is a symlink; the agent may not write through a symlink/);
    expect(await read('src/greet.ts')).toContain('greet');
  });
});

describe('read_file', () => {
  it('shows the file with line numbers', async () => {
    const out = await fx.call(readFileTool, { path: 'src/greet.ts' });
    expect(out).toBe([
      '    1| export function greet(name: string) {',
      '    2|   return `Hello ${name}`;',
      '    3| }',
      '    4| ',
      '    5| export function wave() {',
      '    6|   return `Hello`;',
      '    7| }',
    ].join('\n'));
  });

  it('shows a range of lines, inclusive, and says where it is', async () => {
    expect(await fx.call(readFileTool, { path: 'src/greet.ts', start_line: 2, end_line: 3 }))
      .toBe('    2|   return `Hello ${name}`;\n    3| }\n[Showing lines 2-3 of 7.]');
    expect(await fx.call(readFileTool, { path: 'src/greet.ts', start_line: 6 })).toBe('    6|   return `Hello`;\n    7| }\n[Showing lines 6-7 of 7.]');
    expect(await fx.call(readFileTool, { path: 'src/greet.ts', end_line: 1 })).toBe('    1| export function greet(name: string) {\n[Showing lines 1-1 of 7.]');
    expect(await fx.call(readFileTool, { path: 'src/greet.ts', start_line: 7, end_line: 100 })).toBe('    7| }\n[Showing lines 7-7 of 7.]');
    expect(await toolError(readFileTool, { path: 'src/greet.ts', start_line: 8 })).toBe('`src/greet.ts` has 7 lines; start_line 8 is past its end.');
    expect(await toolError(readFileTool, { path: 'src/greet.ts', start_line: 3, end_line: 2 })).toMatch(/end_line \(2\) is before start_line \(3\)/);
    expect(() => readFileTool.input.parse({ path: 'src/greet.ts', start_line: 0 })).toThrow();
  });

  it('caps a long file at 2,000 lines and says how to read on', async () => {
    await fs.writeFile(path.join(fx.worktree, 'long.txt'), Array.from({ length: 5000 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    const out = await fx.call(readFileTool, { path: 'long.txt' });
    const lines = out.split('\n');
    expect(lines).toHaveLength(2001);
    expect(lines[0]).toBe('    1| line 1');
    expect(lines[1999]).toBe(' 2000| line 2000');
    expect(lines[2000]).toBe('[Showing lines 1-2000 of 5000; to read further, call read_file with start_line 2001.]');

    const next = await fx.call(readFileTool, { path: 'long.txt', start_line: 4999 });
    expect(next).toBe(' 4999| line 4999\n 5000| line 5000\n[Showing lines 4999-5000 of 5000.]');
  });

  it('caps the output at 100 KB', async () => {
    const line = 'x'.repeat(999);
    await fs.writeFile(path.join(fx.worktree, 'wide.txt'), `${Array.from({ length: 300 }, () => line).join('\n')}\n`);
    const out = await fx.call(readFileTool, { path: 'wide.txt' });
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(100 * 1024 + 200);
    expect(out).toMatch(/\n\[Showing lines 1-\d+ of 300; to read further, call read_file with start_line \d+\.\]$/);
    const shown = Number(/lines 1-(\d+)/.exec(out)![1]);
    expect(shown).toBeGreaterThan(90);
    expect(shown).toBeLessThan(105);

    await fs.writeFile(path.join(fx.worktree, 'minified.js'), `${'y'.repeat(300_000)}\nsecond\n`);
    const minified = await fx.call(readFileTool, { path: 'minified.js' });
    expect(Buffer.byteLength(minified)).toBeLessThanOrEqual(100 * 1024 + 200);
    expect(minified).toMatch(/\[Line 1 is longer than 100 KB and was cut; showing lines 1-1 of 2; to read further, call read_file with start_line 2\.\]$/);
  });

  it('refuses binary files, folders and missing files clearly', async () => {
    await fs.writeFile(path.join(fx.worktree, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
    expect(await toolError(readFileTool, { path: 'image.png' })).toBe('`image.png` is a binary file (it contains NUL bytes); only text files can be read or edited.');
    expect(await toolError(readFileTool, { path: 'src' })).toMatch(/`src` is a folder/);
    expect(await toolError(readFileTool, { path: 'src/nope.ts' })).toBe('`src/nope.ts` does not exist.');
  });

  it('says when a file is empty and reads CRLF files without the \\r', async () => {
    await fs.writeFile(path.join(fx.worktree, 'empty.txt'), '');
    expect(await fx.call(readFileTool, { path: 'empty.txt' })).toBe('`empty.txt` is empty.');
    await fs.writeFile(path.join(fx.worktree, 'dos.txt'), 'a\r\nb\r\n');
    expect(await fx.call(readFileTool, { path: 'dos.txt' })).toBe('    1| a\n    2| b\n[The file has CRLF (\\r\\n) line endings, not shown.]');
  });
});

describe('write_file', () => {
  it('creates a file and its folders, and overwrites', async () => {
    expect(await fx.call(writeFileTool, { path: 'a/b/c.txt', content: 'héllo\n' })).toBe('Wrote 7 bytes to a/b/c.txt');
    expect(await read('a/b/c.txt')).toBe('héllo\n');
    expect(await fx.call(writeFileTool, { path: path.join(fx.worktree, 'a/b/c.txt'), content: 'bye' })).toBe('Wrote 3 bytes to a/b/c.txt');
    expect(await read('a/b/c.txt')).toBe('bye');
    expect(await toolError(writeFileTool, { path: 'src', content: 'x' })).toMatch(/`src` is a folder/);
  });
});

describe('edit_file', () => {
  it('replaces a string that occurs exactly once and says where', async () => {
    const out = await fx.call(editFileTool, { path: 'src/greet.ts', old_string: 'return `Hello ${name}`', new_string: 'return `Hi ${name}`' });
    expect(out).toBe('Edited src/greet.ts: replaced the text at line 2.');
    expect(await read('src/greet.ts')).toContain('  return `Hi ${name}`;\n}\n\nexport function wave() {\n  return `Hello`;');
  });

  it('inserts replacement text literally, `$` patterns included', async () => {
    await fx.call(editFileTool, { path: 'src/greet.ts', old_string: 'wave()', new_string: "wave($&, $1, $$) // '$`'" });
    expect(await read('src/greet.ts')).toContain("export function wave($&, $1, $$) // '$`' {");
  });

  it('says when the text is not found', async () => {
    expect(await toolError(editFileTool, { path: 'src/greet.ts', old_string: 'return `Howdy`', new_string: 'x' })).toBe(
      'old_string was not found in src/greet.ts; read the file again and copy the text exactly, including whitespace and indentation '
      + '(without the line numbers read_file adds).');
    expect(await toolError(editFileTool, { path: 'src/missing.ts', old_string: 'a', new_string: 'b' })).toBe('`src/missing.ts` does not exist.');
  });

  it('says how often an ambiguous text occurs and asks for more context', async () => {
    const before = await read('src/greet.ts');
    expect(await toolError(editFileTool, { path: 'src/greet.ts', old_string: 'Hello', new_string: 'Hi' })).toBe(
      'old_string occurs 2 times in src/greet.ts (at lines 2, 6); include more surrounding context in old_string so that it matches exactly once.');
    expect(await read('src/greet.ts')).toBe(before);
  });

  it('edits CRLF files with the text as read_file showed it', async () => {
    await fs.writeFile(path.join(fx.worktree, 'dos.txt'), 'one\r\ntwo\r\nthree\r\n');
    await fx.call(editFileTool, { path: 'dos.txt', old_string: 'one\ntwo', new_string: 'one\n2' });
    expect(await read('dos.txt')).toBe('one\r\n2\r\nthree\r\n');
  });

  it('edits the target of a symlink that stays inside the worktree', async () => {
    await fs.symlink('src/greet.ts', path.join(fx.worktree, 'inner-link'));
    await fx.call(editFileTool, { path: 'inner-link', old_string: 'wave', new_string: 'bow' });
    expect((await fs.lstat(path.join(fx.worktree, 'inner-link'))).isSymbolicLink()).toBe(true);
    expect(await read('src/greet.ts')).toContain('function bow()');
  });
});

describe('list_files', () => {
  it('lists tracked and new files, without ignored or deleted ones', async () => {
    await fs.mkdir(path.join(fx.worktree, 'ignored'));
    await fs.writeFile(path.join(fx.worktree, 'ignored/out.js'), 'x');
    await fs.writeFile(path.join(fx.worktree, 'src/new.ts'), 'x');
    await fs.rm(path.join(fx.worktree, 'README.md'));
    expect(await fx.call(listFilesTool, {})).toBe(['.gitignore', 'src/app.txt', 'src/greet.ts', 'src/new.ts'].join('\n'));
    expect(await fx.call(listFilesTool, { path: 'src' })).toBe(['src/app.txt', 'src/greet.ts', 'src/new.ts'].join('\n'));
    expect(await fx.call(listFilesTool, { path: 'src/*.ts' })).toBe(['src/greet.ts', 'src/new.ts'].join('\n'));
    expect(await fx.call(listFilesTool, { path: '*.txt' })).toBe('src/app.txt');
    expect(await fx.call(listFilesTool, { path: 'nowhere' })).toBe('No files found in `nowhere`.');
  });

  it('caps the list at 500 entries and says how many more there are', async () => {
    await fs.mkdir(path.join(fx.worktree, 'many'));
    for (let i = 0; i < 620; i++) await fs.writeFile(path.join(fx.worktree, 'many', `f${String(i).padStart(3, '0')}.txt`), '');
    const out = await fx.call(listFilesTool, { path: 'many' });
    const lines = out.split('\n');
    expect(lines).toHaveLength(501);
    expect(lines[0]).toBe('many/f000.txt');
    expect(lines[499]).toBe('many/f499.txt');
    expect(lines[500]).toBe('[120 more files not shown (620 in all); list a folder or a pattern with `path` to see them.]');
  });
});
