import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { hasGitSegment } from './resolve-in-worktree.js';
import { ToolError } from './tool.js';

/**
 * Opens a file the path guard (resolveInWorktree) let through, then checks what was actually
 * opened, because the path can change between the check and the open (a symlink swapped in by a
 * process outside the app's control): the descriptor's real path must lie inside the worktree and
 * outside `.git`, it must be a regular file, and it must have one link (a hard link made by a
 * command would otherwise carry a file from elsewhere in). Reads and writes then go through that
 * descriptor only. Linux: the real path comes from /proc/self/fd.
 */
export async function openExisting(worktree: string, file: string, shown: string, mode: 'read' | 'edit'): Promise<FileHandle> {
  // O_NONBLOCK: a FIFO planted under the name must not hang the open; it is refused below
  const flags = (mode === 'read' ? constants.O_RDONLY : constants.O_RDWR) | constants.O_NONBLOCK;
  const handle = await fs.open(file, flags).catch((error: unknown) => {
    throw isCode(error, 'ENOENT') ? new ToolError(`\`${shown}\` does not exist.`) : error;
  });
  return verified(handle, worktree, shown, undefined);
}

/**
 * Opens a file to replace its content, creating it (and missing folders) when it does not exist.
 * Never follows a symlink at the last step; a file it created and then refused is removed again.
 */
export async function openForWriting(worktree: string, file: string, shown: string): Promise<FileHandle> {
  await makeFolders(worktree, path.dirname(file), shown);
  const existing = await fs.open(file, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: unknown) => {
    if (isCode(error, 'ENOENT')) return undefined;
    if (isCode(error, 'ELOOP')) throw new ToolError(`\`${shown}\` is a symlink; the agent may not write through a symlink. Write to the file it points to instead.`);
    throw error;
  });
  if (existing) return verified(existing, worktree, shown, undefined);
  const created = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  return verified(created, worktree, shown, 'created');
}

async function verified(handle: FileHandle, worktree: string, shown: string, created: 'created' | undefined): Promise<FileHandle> {
  const real = await fs.readlink(`/proc/self/fd/${handle.fd}`);
  try {
    const refusal = await refusalOf(handle, await fs.realpath(worktree), real, shown);
    if (refusal) throw new ToolError(refusal);
    return handle;
  } catch (error) {
    await handle.close();
    // only a file this call made itself, still empty: never someone else's
    if (created) await fs.unlink(real).catch(() => undefined);
    throw error;
  }
}

async function refusalOf(handle: FileHandle, realRoot: string, real: string, shown: string): Promise<string | undefined> {
  const relative = path.relative(realRoot, real);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return `\`${shown}\` led outside the repository when it was opened; the agent may not use it.`;
  }
  if (hasGitSegment(relative)) return `\`${shown}\` led into .git when it was opened, which the agent may not touch.`;
  const stat = await handle.stat();
  if (stat.isDirectory()) return `\`${shown}\` is a folder, not a file.`;
  if (!stat.isFile()) return `\`${shown}\` is not a regular file.`;
  if (stat.nlink !== 1) return `\`${shown}\` has ${stat.nlink} hard links; the agent may only use files with one.`;
  return undefined;
}

/** Creates missing folders one at a time, removing again any that turns out to lie outside the worktree. */
async function makeFolders(worktree: string, dir: string, shown: string): Promise<void> {
  const root = path.resolve(worktree);
  const realRoot = await fs.realpath(root);
  const relative = path.relative(root, dir);
  if (relative === '') return;
  let current = root;
  for (const segment of relative.split(path.sep)) {
    current = path.join(current, segment);
    const made = await fs.mkdir(current).then(() => true, (error: unknown) => {
      if (isCode(error, 'EEXIST')) return false;
      throw error;
    });
    const real = await fs.realpath(current);
    const inside = path.relative(realRoot, real);
    if (inside.startsWith('..') || path.isAbsolute(inside) || hasGitSegment(inside)) {
      if (made) await fs.rmdir(real).catch(() => undefined);
      throw new ToolError(`\`${shown}\` led outside the repository when its folders were made; the agent may not use it.`);
    }
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
