import { runGit } from '../git/run-git.js';
import { sanitizeUntrusted } from './sanitize-untrusted.js';
import { readTextFile } from './tools/read-file.js';
import { resolveInWorktree } from './tools/resolve-in-worktree.js';

const INSTRUCTION_FILES = ['AGENTS.md', 'CLAUDE.md', 'CONTRIBUTING.md'];
const MAX_TREE_ENTRIES = 400;
const MAX_INSTRUCTIONS = 20_000;

/**
 * The built-in agent's standing instructions: its role and rules, the repository's own agent
 * instructions where it has them, and the file tree, capped so a large repository still fits.
 */
export async function buildSystemPrompt(options: {
  worktree: string;
  allowedCommands: string[];
  gitEnv?: Record<string, string>;
}): Promise<string> {
  const instructions: string[] = [];
  for (const name of INSTRUCTION_FILES) {
    // through the same guard as the file tools: a committed symlink must not pull in a file from outside
    const text = await resolveInWorktree(options.worktree, name, { mustExist: true })
      .then((file) => readTextFile(options.worktree, file, name))
      .catch(() => null);
    if (text !== null) instructions.push(`## From ${name}\n\n${sanitizeUntrusted(text, MAX_INSTRUCTIONS)}`);
  }
  const files = (await runGit(['ls-files'], { cwd: options.worktree, env: options.gitEnv ?? {} })).split('\n').filter(Boolean);
  const tree = files.slice(0, MAX_TREE_ENTRIES).join('\n') +
    (files.length > MAX_TREE_ENTRIES ? `\n… and ${files.length - MAX_TREE_ENTRIES} more files (use list_files or search)` : '');
  const commands = options.allowedCommands.length > 0
    ? options.allowedCommands.map((c) => `- \`${c}\``).join('\n')
    : '- none: this repository allows the agent no commands';

  return [
    'You are a careful software engineer resolving one GitHub issue in a git worktree of the repository.',
    'Work only through the tools. Paths are relative to the repository root. You cannot reach the network,',
    'push, or touch anything outside the repository or inside .git; the app commits and opens the PR for you.',
    '',
    'How to work:',
    '1. Read what you need (list_files, search, read_file) before you change anything.',
    '2. Make the smallest change that resolves the issue well, in the style of the code around it.',
    '3. Verify it with the allowed commands where they help (tests, linters).',
    '4. Call `finish` exactly once at the end. Its summary becomes the PR description: what changed and why,',
    '   how you verified it (commands and their results), and open questions for the reviewer.',
    '   outcome: `changed` if you edited files; `no-change` if nothing needs to change (say why);',
    '   `not-actionable` if the issue cannot be done as written (say what is missing); `failed` if you could not finish.',
    '',
    'Commands you may run (run_command):',
    commands,
    '',
    ...(instructions.length > 0 ? ['# The repository’s instructions for agents', '', ...instructions, ''] : []),
    `# Files in the repository (${files.length})`,
    '',
    tree,
  ].join('\n');
}
