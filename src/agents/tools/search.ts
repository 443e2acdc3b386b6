import { z } from 'zod';
import { GitError, runGit } from '../../git/run-git.js';
import { resolvePathspec } from './resolve-in-worktree.js';
import { ToolError, type AgentTool } from './tool.js';

export const SEARCH_MAX_MATCHES = 200;
const MAX_LINE_CHARS = 400;

const input = z.object({
  pattern: z.string().min(1).describe(
    'What to search for: a basic regular expression, as in grep (`.` and `*` are special; `+`, `?`, `|`, `(` and `{` are '
    + 'literal unless escaped as `\\+`, `\\|` and so on). A plain word or phrase works as is.',
  ),
  path: z.string().optional().describe(
    'Only search here: a folder, file or glob pattern relative to the repository root, e.g. `src` or `*.ts`. Leave out to search the whole repository.',
  ),
  ignore_case: z.boolean().optional().describe('Match upper and lower case alike. Default: false.'),
});

type SearchInput = z.infer<typeof input>;

export const searchTool: AgentTool<SearchInput> = {
  name: 'search',
  description:
    'Search the text files of the repository (tracked, plus new files not ignored by .gitignore) with git grep. '
    + `Prints \`path:line:text\` for each matching line, at most ${SEARCH_MAX_MATCHES} matches.`,
  input,
  async run({ pattern, path: requested, ignore_case: ignoreCase }, context) {
    const pathspec = await resolvePathspec(context.worktree, requested);
    const args = [
      '-c', 'core.quotePath=false', 'grep', '-n', '-I', '--no-color', '--untracked',
      ...(ignoreCase ? ['-i'] : []), '-e', pattern, ...(pathspec === undefined ? [] : ['--', pathspec]),
    ];
    let result;
    try {
      result = await runGit(args, {
        cwd: context.worktree, signal: context.signal, expectedExitCodes: [1], ...(context.gitEnv ? { env: context.gitEnv } : {}),
      });
    } catch (error) {
      if (error instanceof GitError) throw new ToolError(`The search failed: ${error.stderr.trim() || error.message}`);
      throw error;
    }

    const where = pathspec === undefined ? '' : ` in \`${requested}\``;
    const matches = result.stdout.split('\n').filter((line) => line !== '');
    if (result.code === 1 || matches.length === 0) return `No matches for \`${pattern}\`${where}.`;
    const shown = matches.slice(0, SEARCH_MAX_MATCHES)
      .map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [line cut]` : line))
      .join('\n');
    if (matches.length <= SEARCH_MAX_MATCHES) return shown;
    return `${shown}\n[Showing ${SEARCH_MAX_MATCHES} of ${matches.length} matches; narrow the pattern or give a path to see the rest.]`;
  },
};
