import fs from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from './tool.js';

export interface ResolveOptions {
  /** Throw a ToolError naming the path when nothing exists there. */
  mustExist?: boolean;
}

/**
 * The one guard every file tool uses. Resolves `requested` (relative to the worktree, or absolute
 * but inside it) to a normalised absolute path inside the worktree, and refuses with a ToolError
 * anything that escapes it: `..` past the root, an absolute path elsewhere, any path segment
 * `.git` (any case), and a symlink anywhere along the path whose real target lies outside the
 * worktree, inside `.git`, or nowhere (a dangling link would let a write create its target).
 * Parts of the path that do not exist yet (a new file, new folders) are fine.
 */
export async function resolveInWorktree(worktree: string, requested: string, options: ResolveOptions = {}): Promise<string> {
  const shown = requested === '' ? '.' : requested;
  if (requested.includes('\0')) throw new ToolError(`\`${printable(shown)}\` contains a NUL character, which no path may contain.`);

  const root = path.resolve(worktree);
  const realRoot = await fs.realpath(root);
  const absolute = path.isAbsolute(requested) ? path.resolve(requested) : path.resolve(root, requested);
  const relative = relativeInside(root, absolute) ?? (path.isAbsolute(requested) ? relativeInside(realRoot, absolute) : undefined);
  if (relative === undefined) {
    throw new ToolError(`\`${shown}\` is outside the repository; use a path relative to the repository root.`);
  }
  if (hasGitSegment(relative)) {
    throw new ToolError(`\`${shown}\` is inside .git, which the agent may not touch.`);
  }

  // Walk the path one segment at a time from the real root, following symlinks ourselves.
  const segments = relative === '' ? [] : relative.split(path.sep);
  let current = realRoot;
  let exists = true;
  for (let i = 0; i < segments.length; i++) {
    const next = path.join(current, segments[i]!);
    let stat;
    try {
      stat = await fs.lstat(next);
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) {
        exists = false;
        break;
      }
      throw error;
    }
    if (!stat.isSymbolicLink()) {
      current = next;
      continue;
    }
    const link = segments.slice(0, i + 1).join('/');
    const via = link === toPosix(relative) ? '' : ` (\`${shown}\` goes through it)`;
    let target: string;
    try {
      target = await fs.realpath(next);
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ELOOP') || isCode(error, 'ENOTDIR')) {
        throw new ToolError(`\`${link}\` is a symlink whose target does not exist; the agent may not use it${via}.`);
      }
      throw error;
    }
    const targetRelative = relativeInside(realRoot, target);
    if (targetRelative === undefined) {
      throw new ToolError(`\`${link}\` is a symlink that leads outside the repository${via}.`);
    }
    if (hasGitSegment(targetRelative)) {
      throw new ToolError(`\`${link}\` is a symlink into .git, which the agent may not touch${via}.`);
    }
    current = target;
  }

  if (options.mustExist && !exists) throw new ToolError(`\`${shown}\` does not exist.`);
  return path.join(root, relative);
}

/** The path as the model should see it: relative to the worktree, with `/`; `.` for the root. */
export function displayPath(worktree: string, absolute: string): string {
  const relative = path.relative(path.resolve(worktree), absolute);
  return relative === '' ? '.' : toPosix(relative);
}

/**
 * Validates a glob-ish path filter for git (`src`, `src/*.ts`, `**\/*.test.ts`) and returns it as
 * a pathspec relative to the worktree root, or undefined for the whole repository. The part before
 * the first segment with a glob character goes through resolveInWorktree; the rest may not contain
 * `..` or `.git` segments.
 */
export async function resolvePathspec(worktree: string, requested: string | undefined): Promise<string | undefined> {
  if (requested === undefined || requested.trim() === '' || requested.trim() === '.') return undefined;
  const segments = requested.split(/[\\/]/);
  const firstGlob = segments.findIndex((segment) => /[*?[]/.test(segment));
  const literal = firstGlob === -1 ? requested : segments.slice(0, firstGlob).join('/') || (requested.startsWith('/') ? '/' : '');
  const pattern = firstGlob === -1 ? [] : segments.slice(firstGlob);
  if (pattern.some((segment) => segment === '..')) {
    throw new ToolError(`\`${requested}\` is outside the repository; \`..\` is not allowed in a pattern.`);
  }
  if (pattern.some(isGitSegment)) throw new ToolError(`\`${requested}\` is inside .git, which the agent may not touch.`);
  const base = displayPath(worktree, await resolveInWorktree(worktree, literal));
  const spec = [...(base === '.' ? [] : [base]), ...pattern].join('/');
  if (spec === '') return undefined;
  // a leading `:` would be read as pathspec magic
  return spec.startsWith(':') ? `./${spec}` : spec;
}

function relativeInside(root: string, absolute: string): string | undefined {
  const relative = path.relative(root, absolute);
  if (relative === '') return '';
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return undefined;
  return relative;
}

export function hasGitSegment(relative: string): boolean {
  return relative.split(/[\\/]/).some(isGitSegment);
}

/** `.git` in any case; also with invisible characters or trailing dots and spaces, which some file systems ignore. */
function isGitSegment(segment: string): boolean {
  return segment.toLowerCase().replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/g, '').replace(/[. ]+$/, '') === '.git';
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

function printable(text: string): string {
  return text.replace(/\0/g, '\\0');
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
