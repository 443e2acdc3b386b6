import type { FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { openExisting } from './open-in-worktree.js';
import { readText } from './read-file.js';
import { displayPath, resolveInWorktree } from './resolve-in-worktree.js';
import { replaceContent } from './write-file.js';
import { ToolError, type AgentTool } from './tool.js';

const input = z.object({
  path: z.string().describe('The file to edit, relative to the repository root.'),
  old_string: z.string().min(1).describe(
    'The exact text to replace, copied from the file (without the line-number prefix read_file shows), including whitespace '
    + 'and indentation. It must occur exactly once in the file: include enough surrounding lines to make it unique.',
  ),
  new_string: z.string().describe('The text to put in its place (may be empty to delete old_string).'),
});

type EditFileInput = z.infer<typeof input>;

export const editFileTool: AgentTool<EditFileInput> = {
  name: 'edit_file',
  description:
    'Edit a file by replacing one exact piece of text with another. old_string must occur exactly once in the file; '
    + 'the edit is refused when it is missing or occurs more than once. Use write_file to create a new file.',
  input,
  async run({ path: requested, old_string: oldString, new_string: newString }, context) {
    const file = await resolveInWorktree(context.worktree, requested, { mustExist: true });
    const shown = displayPath(context.worktree, file);
    // read and written through one verified descriptor: what is edited is what was checked
    const handle = await openExisting(context.worktree, file, shown, 'edit');
    try {
      return await edit(handle, shown, oldString, newString);
    } finally {
      await handle.close();
    }
  },
};

async function edit(handle: FileHandle, shown: string, oldString: string, newString: string): Promise<string> {
  const text = await readText(handle, shown);
  if (oldString === newString) throw new ToolError('old_string and new_string are the same; there is nothing to change.');

  let from = oldString;
  let to = newString;
  let positions = occurrences(text, from);
  // read_file shows CRLF files without their \r: match the text the model saw
  if (positions.length === 0 && text.includes('\r\n') && from.includes('\n') && !from.includes('\r')) {
    from = from.replace(/\n/g, '\r\n');
    to = to.replace(/\r?\n/g, '\r\n');
    positions = occurrences(text, from);
  }

  if (positions.length === 0) {
    throw new ToolError(
      `old_string was not found in ${shown}; read the file again and copy the text exactly, including whitespace and indentation `
      + '(without the line numbers read_file adds).',
    );
  }
  if (positions.length > 1) {
    const lines = positions.slice(0, 10).map((at) => lineAt(text, at));
    const more = positions.length > 10 ? ', …' : '';
    throw new ToolError(
      `old_string occurs ${positions.length} times in ${shown} (at lines ${lines.join(', ')}${more}); `
      + 'include more surrounding context in old_string so that it matches exactly once.',
    );
  }

  const at = positions[0]!;
  const updated = text.slice(0, at) + to + text.slice(at + from.length);
  await replaceContent(handle, updated);
  return `Edited ${shown}: replaced the text at line ${lineAt(text, at)}.`;
}

/** Start offsets of every occurrence, overlapping ones included (they make the match ambiguous too). */
function occurrences(text: string, search: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + 1)) found.push(at);
  return found;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
