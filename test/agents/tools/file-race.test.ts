/**
 * SANDBOX.md §4, probes 8 and 11: the file tools open first and check what they opened, so a path
 * swapped between the guard's check and the open (by a process outside the app's control) leaks
 * nothing and writes nothing outside, and a hard-linked file is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { editFileTool } from '../../../src/agents/tools/edit-file.js';
import { readFileTool } from '../../../src/agents/tools/read-file.js';
import { ToolError } from '../../../src/agents/tools/tool.js';
import { writeFileTool } from '../../../src/agents/tools/write-file.js';
import { createToolFixture, type ToolFixture } from './tool-fixture.js';

const SECRET = 'TOP SECRET KEY MATERIAL';
const TRIES = 1500;

let fx: ToolFixture;
let flipper: ChildProcess | undefined;

beforeEach(async () => {
  fx = await createToolFixture({ 'src/a.txt': 'alpha\n' });
  await fs.writeFile(path.join(fx.outside, 'secret.txt'), SECRET);
});

afterEach(async () => {
  flipper?.kill('SIGKILL');
  flipper = undefined;
  await fx.cleanup();
});

/** Swaps `race.txt` between a file of the worktree and a symlink to the secret, and `racedir` between a folder and a symlink outside, without pause. */
function startFlipper(): ChildProcess {
  const script = `
    const fs = require('fs');
    const [wt, secret, outside] = process.argv.slice(1);
    for (;;) {
      try { fs.symlinkSync(secret, wt + '/l.tmp'); fs.renameSync(wt + '/l.tmp', wt + '/race.txt'); } catch {}
      try { fs.writeFileSync(wt + '/f.tmp', 'inside'); fs.renameSync(wt + '/f.tmp', wt + '/race.txt'); } catch {}
      try { fs.rmSync(wt + '/racedir', { recursive: true, force: true }); fs.symlinkSync(outside, wt + '/racedir'); } catch {}
      try { fs.rmSync(wt + '/racedir', { recursive: true, force: true }); fs.mkdirSync(wt + '/racedir'); } catch {}
    }`;
  return spawn(process.execPath, ['-e', script, fx.worktree, path.join(fx.outside, 'secret.txt'), fx.outside], { stdio: 'ignore' });
}

async function attempt(run: () => Promise<string>): Promise<string> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ToolError || (error as NodeJS.ErrnoException).code !== undefined) return `refused: ${(error as Error).message}`;
    throw error;
  }
}

describe('the file tools under a symlink-flipping race', () => {
  it('leak nothing and write nothing outside the worktree', async () => {
    flipper = startFlipper();
    await new Promise((resolve) => setTimeout(resolve, 100));
    let leaks = 0;
    let readsInside = 0;
    let refusals = 0;
    for (let i = 0; i < TRIES; i++) {
      const read = await attempt(() => fx.call(readFileTool, { path: 'race.txt' }));
      if (read.includes(SECRET)) leaks++;
      if (read.includes('inside')) readsInside++;
      if (read.startsWith('refused')) refusals++;
      const edited = await attempt(() => fx.call(editFileTool, { path: 'race.txt', old_string: 'inside', new_string: 'edited' }));
      if (edited.includes(SECRET)) leaks++;
      await attempt(() => fx.call(writeFileTool, { path: `racedir/w${i}.txt`, content: 'written' }));
      await attempt(() => fx.call(writeFileTool, { path: 'race.txt', content: 'written' }));
    }
    flipper.kill('SIGKILL');

    expect(leaks).toBe(0);
    // the race really ran: some reads got the file, some were refused mid-swap
    expect(readsInside).toBeGreaterThan(0);
    expect(refusals).toBeGreaterThan(0);
    expect(await fx.outsideSnapshot()).toEqual({ 'secret.txt': SECRET });
  });
});

describe('hard links', () => {
  it('are refused by every file tool: a link made by a command could carry a file in from elsewhere', async () => {
    await fs.link(path.join(fx.worktree, 'src/a.txt'), path.join(fx.worktree, 'linked.txt'));
    for (const [tool, input] of [
      [readFileTool, { path: 'linked.txt' }],
      [editFileTool, { path: 'linked.txt', old_string: 'alpha', new_string: 'beta' }],
      [writeFileTool, { path: 'src/a.txt', content: 'beta\n' }],
    ] as const) {
      await expect(fx.call(tool, input)).rejects.toThrow(/has 2 hard links; the agent may only use files with one/);
    }
    expect(await fs.readFile(path.join(fx.worktree, 'src/a.txt'), 'utf8')).toBe('alpha\n');
  });
});
