import { z } from 'zod';
import { GitError, runGit } from '../../git/run-git.js';
import { resolvePathspec } from './resolve-in-worktree.js';
import { ToolError, type AgentTool, type ToolContext } from './tool.js';

export const LIST_FILES_MAX_ENTRIES = 500;

const input = z.object({
  path: z.string().optional().describe(
    'A folder, file or glob pattern relative to the repository root, e.g. `src`, `src/agents/*.ts` or `**/*.test.ts` '
    + '(`*` also matches across folders). Leave out to list the whole repository.',
  ),
});

type ListFilesInput = z.infer<typeof input>;

export const listFilesTool: AgentTool<ListFilesInput> = {
  name: 'list_files',
  description:
    'List the files in the repository (tracked, plus new files that are not ignored by .gitignore), one path per line, '
    + `relative to the repository root and sorted. Shows at most ${LIST_FILES_MAX_ENTRIES} entries; narrow with \`path\` when there are more.`,
  input,
  async run({ path: requested }, context) {
    const pathspec = await resolvePathspec(context.worktree, requested);
    const spec = pathspec === undefined ? [] : ['--', pathspec];
    const listed = await git(['ls-files', '-z', '--cached', '--others', '--exclude-standard', ...spec], context);
    const deleted = new Set(await git(['ls-files', '-z', '--deleted', ...spec], context));
    const files = [...new Set(listed)].filter((file) => !deleted.has(file)).sort();

    const where = pathspec === undefined ? 'the repository' : `\`${requested}\``;
    if (files.length === 0) return `No files found in ${where}.`;
    const shown = files.slice(0, LIST_FILES_MAX_ENTRIES).join('\n');
    if (files.length <= LIST_FILES_MAX_ENTRIES) return shown;
    return `${shown}\n[${files.length - LIST_FILES_MAX_ENTRIES} more files not shown (${files.length} in all); `
      + 'list a folder or a pattern with `path` to see them.]';
  },
};

async function git(args: string[], context: ToolContext): Promise<string[]> {
  try {
    const out = await runGit(args, { cwd: context.worktree, signal: context.signal, ...(context.gitEnv ? { env: context.gitEnv } : {}) });
    return out.split('\0').filter((file) => file !== '');
  } catch (error) {
    if (error instanceof GitError) throw new ToolError(`Could not list the files: ${error.stderr.trim() || error.message}`);
    throw error;
  }
}
