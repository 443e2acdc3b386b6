import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
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
    if (existing?.isSymbolicLink()) {
      throw new ToolError(`\`${shown}\` is a symlink; the agent may not write through a symlink. Write to the file it points to instead.`);
    }
    if (existing?.isDirectory()) throw new ToolError(`\`${shown}\` is a folder, not a file.`);

    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeNoFollow(file, content);
    return `Wrote ${Buffer.byteLength(content)} bytes to ${shown}`;
  },
};

/** Writes a file, refusing (ELOOP) to follow a symlink that appeared at the last moment. */
export async function writeNoFollow(file: string, content: string): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  await fs.writeFile(file, content, { flag: flags });
}
