import fs from 'node:fs/promises';
import path from 'node:path';
import { GitError } from './run-git.js';

/** The work directory's layout on disk: `repos/<owner>/<repo>.git` clones and their worktrees' files. */

/** The cached clones under the work directory. */
export async function listClones(workDir: string): Promise<string[]> {
  const reposRoot = path.join(workDir, 'repos');
  const clones: string[] = [];
  for (const owner of await readdirIfExists(reposRoot)) {
    for (const name of await readdirIfExists(path.join(reposRoot, owner))) {
      if (name.endsWith('.git')) clones.push(path.join(reposRoot, owner, name));
    }
  }
  return clones;
}

/** The git dir a new worktree's `.git` file names. */
export async function gitDirOf(worktree: string): Promise<string> {
  const text = await fs.readFile(path.join(worktree, '.git'), 'utf8');
  const match = /^gitdir: (.+)$/m.exec(text);
  if (!match) throw new Error(`git worktree add left no gitdir in ${worktree}/.git`);
  return path.resolve(worktree, match[1]!.trim());
}

/** GitHub names are case-insensitive, so the folders are too; anything that could escape the work directory is refused. */
export function segment(name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') {
    throw new Error(`not a safe folder name: ${JSON.stringify(name)}`);
  }
  return name.toLowerCase();
}

/** Lock files are named `*.lock` anywhere outside objects/ (no ref may end in `.lock`). */
export async function removeLockFiles(clone: string): Promise<void> {
  for (const entry of await fs.readdir(clone, { withFileTypes: true })) {
    if (entry.name === 'objects') continue;
    const full = path.join(clone, entry.name);
    const inside = entry.isDirectory() ? (await fs.readdir(full, { recursive: true })).map((rel) => path.join(full, rel)) : [full];
    for (const file of inside) {
      if (file.endsWith('.lock')) await fs.rm(file, { force: true });
    }
  }
}

export async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

async function readdirIfExists(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}

export function ignoreGitError(error: unknown): void {
  if (!(error instanceof GitError)) throw error;
}
