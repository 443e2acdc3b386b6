import fs, { type FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { openForWriting } from './open-in-worktree.js';
import { displayPath, resolveInWorktree } from './resolve-in-worktree.js';
import { ToolError, type AgentTool } from './tool.js';

const input = z.object({
  path: z.string().describe('The file to write, relative to the repository root, e.g. `src/new-module.ts`. Missing folders are created.'),
  content: z.string().describe('The complete new content of the file. It replaces whatever the file held before.'),
});

type WriteFileInput = z.infer<typeof input>;

export const writeFileTool: AgentTool<WriteFileInput> = {
  name: 'write_file',
  description:
    'Create a file, or overwrite an existing one with completely new content. To change part of an existing file, '
    + 'prefer edit_file, which does not need the whole file repeated.',
  input,
  async run({ path: requested, content }, context) {
    const file = await resolveInWorktree(context.worktree, requested);
    const shown = displayPath(context.worktree, file);
    if (shown === '.') throw new ToolError('Give the path of a file to write, not the repository root.');
    const existing = await fs.lstat(file).catch(() => undefined);
    if (existing?.isDirectory()) throw new ToolError(`\`${shown}\` is a folder, not a file.`);

    const handle = await openForWriting(context.worktree, file, shown);
    try {
      await replaceContent(handle, content);
    } finally {
      await handle.close();
    }
    return `Wrote ${Buffer.byteLength(content)} bytes to ${shown}`;
  },
};

/** Replaces what a verified descriptor holds: truncated only once it is known to be the right file. */
export async function replaceContent(handle: FileHandle, content: string): Promise<void> {
  await handle.truncate(0);
  await handle.write(content, 0, 'utf8');
}
