import { z } from 'zod';
import { ToolError, type AgentTool } from './tool.js';
import { formatDuration } from '../../text.js';

export const RUN_COMMAND_MAX_OUTPUT_BYTES = 30_000;

/** Characters that could chain, substitute or redirect another command in an argument to a ` *` entry. */
const CHAINING = [';', '&', '|', '`', '$(', '>', '<', '\n', '\r'];

const input = z.object({
  command: z.string().min(1).describe(
    'The command line to run in the repository root, exactly as on the list of allowed commands; '
    + 'an entry ending in ` *` may be followed by arguments (without `;`, `&`, `|`, `>`, `<`, backticks or `$(`).',
  ),
});

type RunCommandInput = z.infer<typeof input>;

export const runCommandTool: AgentTool<RunCommandInput> = {
  name: 'run_command',
  description:
    'Run a command in the repository root, e.g. the tests or the linter. Only the commands the repository allows can run '
    + '(the system prompt lists them). It runs in a sandbox without network access, with a time limit and no secrets in its '
    + 'environment; it can change only the repository\'s files, not git itself. Its output '
    + `(stdout and stderr together) is cut after ${RUN_COMMAND_MAX_OUTPUT_BYTES} bytes. The result starts with the exit code.`,
  input,
  async run({ command }, context) {
    const allowed = allowedCommandLine(command, context.allowedCommands);
    if (typeof allowed !== 'string') throw new ToolError(refusal(command, context.allowedCommands, allowed.reason));

    const timeoutMs = context.commandTimeoutMs();
    // no network at all: tests and linters need none, and a command is where issue text turns into code
    const result = await context.sandbox.run({
      command: allowed,
      worktree: context.worktree,
      cloneDir: context.cloneDir,
      network: { kind: 'none' },
      timeoutMs,
      signal: context.signal,
      maxOutputBytes: RUN_COMMAND_MAX_OUTPUT_BYTES,
    });
    if (result.kind === 'refused') throw new ToolError(result.output);
    const output = result.output.trimEnd() === '' ? '(no output)' : result.output.trimEnd();
    const status = result.kind === 'timeout'
      ? `timed out after ${formatDuration(timeoutMs)}; the command and every process it started were killed`
      : result.kind === 'cancelled'
        ? 'cancelled: the run was stopped, and the command and every process it started were killed'
        : result.exitCode === null ? 'the command could not be started' : `exit code ${result.exitCode}`;
    return `${status}\n${output}`;
  },
};

/**
 * The command line to run when `command` is allowed, else why not. An entry matches exactly (after
 * trimming and collapsing whitespace), and then the entry itself runs; an entry `prefix *` matches
 * `prefix` followed by arguments that cannot chain another command (or by nothing), and then
 * `prefix args` runs.
 */
export function allowedCommandLine(command: string, allowedCommands: readonly string[]): string | { reason?: string } {
  const normalised = normalise(command);
  let reason: string | undefined;
  for (const entry of allowedCommands) {
    const wanted = normalise(entry);
    if (wanted === '') continue;
    if (normalised === wanted) return entry.trim();
    if (!wanted.endsWith(' *')) continue;
    const prefix = wanted.slice(0, -2);
    // the prefix's words separated by blanks (never a newline), then what follows them
    const words = prefix.split(' ').map(escapeRegExp).join('[ \\t]+');
    const match = new RegExp(`^\\s*${words}([\\s\\S]*)$`).exec(command);
    if (!match) continue;
    const rest = match[1]!;
    if (/^\s*$/.test(rest)) return prefix;
    // `npm testing` is not `npm test` with arguments; `npm test;…` is, and is refused below
    if (!/^[ \t]/.test(rest) && !CHAINING.some((c) => rest.startsWith(c))) continue;
    const args = rest.replace(/^[ \t]+/, '').replace(/\s+$/, '');
    const bad = CHAINING.filter((c) => args.includes(c));
    if (bad.length > 0) {
      reason ??= `arguments to \`${wanted}\` may not contain ${bad.map(show).join(', ')}, which could run another command`;
      continue;
    }
    return `${prefix} ${args}`;
  }
  return reason === undefined ? {} : { reason };
}

function refusal(command: string, allowedCommands: readonly string[], reason: string | undefined): string {
  const entries = allowedCommands.map(normalise).filter((entry) => entry !== '');
  const list = entries.length === 0
    ? 'No commands are allowed in this repository.'
    : `Allowed commands: ${entries.map((entry) => `\`${entry}\``).join(', ')} (an entry ending in \` *\` takes arguments).`;
  return `\`${normalise(command)}\` is not allowed${reason ? `: ${reason}` : ''}. ${list}`;
}

function normalise(command: string): string {
  return command.trim().replace(/\s+/g, ' ');
}

function show(c: string): string {
  return c === '\n' ? 'a newline' : c === '\r' ? 'a carriage return' : `\`${c}\``;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

