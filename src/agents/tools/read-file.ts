import type { FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { openExisting } from './open-in-worktree.js';
import { displayPath, resolveInWorktree } from './resolve-in-worktree.js';
import { ToolError, type AgentTool } from './tool.js';
import { capitalise } from '../../text.js';

export const READ_FILE_MAX_LINES = 2000;
export const READ_FILE_MAX_BYTES = 100 * 1024;
/** Larger files are refused outright rather than loaded into memory. */
const MAX_FILE_BYTES = 20 * 1024 * 1024;

const input = z.object({
  path: z.string().describe('The file to read, relative to the repository root, e.g. `src/index.ts`.'),
  start_line: z.number().int().min(1).optional().describe('First line to show (1-based, inclusive). Default: 1.'),
  end_line: z.number().int().min(1).optional().describe(
    `Last line to show (1-based, inclusive). Default: the end of the file, or as far as the limit of ${READ_FILE_MAX_LINES} lines / 100 KB allows.`,
  ),
});

type ReadFileInput = z.infer<typeof input>;

export const readFileTool: AgentTool<ReadFileInput> = {
  name: 'read_file',
  description:
    'Read a text file of the repository. Each line is shown with its line number, as `   12| text`; the number and `| ` are '
    + `not part of the file. Shows at most ${READ_FILE_MAX_LINES} lines or 100 KB at a time; use start_line and end_line to read a `
    + 'part of a long file. Binary files are refused.',
  input,
  async run({ path: requested, start_line: startLine, end_line: endLine }, context) {
    const file = await resolveInWorktree(context.worktree, requested, { mustExist: true });
    const shown = displayPath(context.worktree, file);
    const text = await readTextFile(context.worktree, file, shown);

    if (startLine !== undefined && endLine !== undefined && endLine < startLine) {
      throw new ToolError(`end_line (${endLine}) is before start_line (${startLine}).`);
    }
    if (text === '') return `\`${shown}\` is empty.`;
    const crlf = text.includes('\r\n');
    const lines = text.split('\n').map((line) => (crlf && line.endsWith('\r') ? line.slice(0, -1) : line));
    if (lines.at(-1) === '') lines.pop();
    const total = lines.length;

    const first = startLine ?? 1;
    if (first > total) throw new ToolError(`\`${shown}\` has ${total} line${total === 1 ? '' : 's'}; start_line ${first} is past its end.`);
    const wantedLast = Math.min(endLine ?? total, total);
    const width = Math.max(5, String(wantedLast).length);

    const out: string[] = [];
    let bytes = 0;
    let last = first - 1;
    let cutLine = false;
    for (let n = first; n <= wantedLast && n < first + READ_FILE_MAX_LINES; n++) {
      const row = `${String(n).padStart(width)}| ${lines[n - 1]!}`;
      const size = Buffer.byteLength(row) + 1;
      if (bytes + size > READ_FILE_MAX_BYTES) {
        if (out.length === 0) {
          // a single line longer than the whole cap: show its start
          out.push(cutToBytes(row, READ_FILE_MAX_BYTES));
          last = n;
          cutLine = true;
        }
        break;
      }
      out.push(row);
      bytes += size;
      last = n;
    }

    const notes: string[] = [];
    if (cutLine) notes.push(`line ${last} is longer than 100 KB and was cut`);
    if (last < wantedLast) {
      notes.push(`showing lines ${first}-${last} of ${total}; to read further, call read_file with start_line ${last + 1}`);
    } else if (first > 1 || last < total) {
      notes.push(`showing lines ${first}-${last} of ${total}`);
    }
    if (crlf) notes.push('the file has CRLF (\\r\\n) line endings, not shown');
    return notes.length === 0 ? out.join('\n') : `${out.join('\n')}\n[${capitalise(notes.join('; '))}.]`;
  },
};

/** Reads a file of the worktree as UTF-8 text, through a verified descriptor (open-in-worktree.ts). */
export async function readTextFile(worktree: string, file: string, shown: string): Promise<string> {
  const handle = await openExisting(worktree, file, shown, 'read');
  try {
    return await readText(handle, shown);
  } finally {
    await handle.close();
  }
}

/** The text behind an open descriptor, refusing very large files and binary files (a NUL byte). */
export async function readText(handle: FileHandle, shown: string): Promise<string> {
  const stat = await handle.stat();
  if (stat.size > MAX_FILE_BYTES) {
    throw new ToolError(`\`${shown}\` is ${Math.round(stat.size / 1024 / 1024)} MB, too large to read; use search to find the lines you need.`);
  }
  const buffer = await handle.readFile();
  if (buffer.includes(0)) throw new ToolError(`\`${shown}\` is a binary file (it contains NUL bytes); only text files can be read or edited.`);
  return buffer.toString('utf8');
}

function cutToBytes(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text);
  if (buffer.length <= maxBytes) return text;
  // drop a multi-byte character cut in half
  return buffer.subarray(0, maxBytes).toString('utf8').replace(/\ufffd$/, '');
}

