import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGit } from '../git/run-git.js';
import { changedFiles, headSha } from '../git/worktree-git.js';
import type { ShellResult } from '../sandbox/run-shell.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Agent, AgentOutcome, AgentRequest, AgentResult, AgentUsage } from './agent.js';
import { emptyUsage } from './agent.js';
import {
  commandPresets, parseGenericOutput, shellQuote, type CommandPreset, type CommandPresetName, type ParsedAgentOutput,
} from './command-presets.js';
import { formatDuration, redact } from '../text.js';

export interface CommandAgentOptions {
  /** The command line (`agent.command`); empty: the preset's. `{task_file}` is replaced by the task file's path. */
  command: string;
  preset?: CommandPresetName;
  /** Names of the variables the agent gets on top of the scrubbed environment (`agent.env`); nothing else is passed. */
  passEnv: string[];
  /** Where the passed variables are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The variable each passed name is read from, where it differs (the operator's `NAME=SOURCE`). */
  envSources?: Record<string, string>;
  /** Where the CLI runs: its worktree writable, its clone read-only, the network only to `hosts`. */
  sandbox: Sandbox;
  /** Hosts the CLI may reach on top of its preset's model API (the operator's SANDBOX_AGENT_HOSTS). */
  hosts: readonly string[];
  /** For the git commands that judge the result (tests: isolation from the machine's git config). */
  gitEnv?: Record<string, string>;
  /** `map.allowedCommands`, for a preset whose CLI has its own list of allowed commands. */
  allowedCommands?: readonly string[];
  /** Given to the preset's CLI as its model. */
  model?: string;
  /** How much of the end of the CLI's output is kept for parsing and the summary; default 1 MB. */
  maxOutputBytes?: number;
  /** How often onProgress is called (with the elapsed time only: the CLI's output is read at the end); default 5 s. */
  progressIntervalMs?: number;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const SUMMARY_LIMIT = 20_000;
const OUTPUT_TAIL_CHARS = 4_000;

const WORKING_RULES = [
  '# How to work',
  '',
  'Edit the files in the current directory (the repository) and nowhere else. Do not commit, push or',
  'switch branches: your changes are committed for you. When you are done, end with a short summary',
  'for the pull request: what you changed and why, how you checked it, and any open questions.',
].join('\n');

/**
 * An external agent CLI (Claude Code, Codex, aider, or any command) run in its own sandbox on the
 * worktree with the task on stdin or in a file, a neutral environment plus exactly the variables
 * config names, a private HOME, its model API as its only network, and the run's wall time as its
 * time limit. Success is judged from the CLI's
 * structured result and from the worktree's diff, not from its exit code: these CLIs exit 0 on
 * some failures.
 */
export function createCommandAgent(options: CommandAgentOptions): Agent {
  const preset: CommandPreset | undefined = options.preset ? commandPresets[options.preset] : undefined;
  const git = { ...(options.gitEnv ? { env: options.gitEnv } : {}) };

  return {
    async run(request: AgentRequest): Promise<AgentResult> {
      const started = Date.now();
      const passed = passedVariables(options);
      const finish = (outcome: AgentOutcome, summary: string, usage: Partial<AgentUsage> = {}): AgentResult => ({
        outcome,
        // the passed values (model keys, usually) never reach a comment; short ones would mask ordinary words
        summary: capSummary(redact(summary, Object.values(passed).filter((value) => value.length >= 8))),
        usage: { ...emptyUsage(), ...usage, durationMs: Date.now() - started },
      });
      if (request.signal.aborted) return finish('failed', 'The run was cancelled before the agent started.');

      const temp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'command-agent-')));
      const progress = request.onProgress
        ? setInterval(() => request.onProgress?.({ ...emptyUsage(), durationMs: Date.now() - started }), options.progressIntervalMs ?? 5000)
        : undefined;
      progress?.unref();
      try {
        const command = await prepareCommand(options, preset, request, temp);
        if (!command) return finish('failed', 'The command agent has no command: set `agent.command` or `agent.preset`.');
        const startSha = await headSha(request.worktree, git).catch(() => undefined);
        const rootBefore = preset?.leftovers ? new Set(await fs.readdir(request.worktree)) : undefined;
        // Only the end of the output is kept, as it arrives: the structured result comes last, and a
        // CLI that prints without end fills neither the memory nor the disk.
        const shell = await options.sandbox.run({
          command: `exec 2>&1\n${command.line}`,
          worktree: request.worktree,
          cloneDir: request.cloneDir,
          writable: [temp],
          network: { kind: 'hosts', hosts: [...(preset?.hosts ?? []), ...options.hosts] },
          env: { ...preset?.env, ...passed },
          timeoutMs: request.budget.wallTimeMs,
          signal: request.signal,
          maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
          keep: 'tail',
          ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
        });
        if (shell.kind === 'refused') return finish('failed', `The agent CLI was not run. ${shell.output}`);
        await tidyWorktree(request.worktree, preset, { startSha, rootBefore, git });
        const judged = await judge(shell, (preset?.parse ?? parseGenericOutput)(shell.output), request, git);
        return finish(judged.outcome, judged.summary, judged.usage);
      } catch (error) {
        return finish('failed', `The command agent could not run: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        if (progress) clearInterval(progress);
        await fs.rm(temp, { recursive: true, force: true });
      }
    },
  };
}

/** The variables config names, read from the deployment (each from the operator's source variable, if one). */
function passedVariables(options: CommandAgentOptions): Record<string, string> {
  const source = options.env ?? process.env;
  const passed: Record<string, string> = {};
  for (const name of options.passEnv) {
    const value = source[options.envSources?.[name] ?? name];
    if (value !== undefined) passed[name] = value;
  }
  return passed;
}

/** The command line, with the task in a file (where `{task_file}` asks for one) or for stdin; undefined without a command. */
async function prepareCommand(
  options: CommandAgentOptions, preset: CommandPreset | undefined, request: AgentRequest, temp: string,
): Promise<{ line: string; stdin?: string } | undefined> {
  const stateDir = path.join(temp, 'state');
  await fs.mkdir(stateDir);
  const configured = options.command.trim() !== ''
    ? options.command
    : preset?.commandLine({
      budget: request.budget, stateDir, allowedCommands: options.allowedCommands ?? [], ...(options.model ? { model: options.model } : {}),
    });
  if (configured === undefined) return undefined;
  const task = [
    request.task,
    ...(request.feedback ? ['# Feedback from the review, to act on now', request.feedback] : []),
    WORKING_RULES,
  ].join('\n\n');
  if (!configured.includes('{task_file}')) return { line: configured, stdin: task };
  const taskFile = path.join(temp, 'task.md');
  await fs.writeFile(taskFile, task, { mode: 0o600 });
  return { line: configured.replaceAll('{task_file}', shellQuote(taskFile)) };
}

/**
 * The app commits, not the agent: commits it made anyway (where its sandbox let it) become staged
 * changes again; entries the CLI left at the root for itself are removed.
 */
async function tidyWorktree(
  worktree: string, preset: CommandPreset | undefined,
  before: { startSha: string | undefined; rootBefore: Set<string> | undefined; git: { env?: Record<string, string> } },
): Promise<void> {
  const { startSha, rootBefore, git } = before;
  if (startSha !== undefined) {
    const endSha = await headSha(worktree, git).catch(() => startSha);
    if (endSha !== startSha) await runGit(['reset', '--quiet', '--soft', startSha], { cwd: worktree, ...git });
  }
  if (!preset?.leftovers || !rootBefore) return;
  for (const entry of await fs.readdir(worktree)) {
    if (preset.leftovers.test(entry) && !rootBefore.has(entry)) await fs.rm(path.join(worktree, entry), { recursive: true, force: true });
  }
}

/** How the run ended: from the sandbox's verdict, the CLI's own result, its exit code, and the diff. */
async function judge(
  shell: ShellResult, parsed: ParsedAgentOutput, request: AgentRequest, git: { env?: Record<string, string> },
): Promise<{ outcome: AgentOutcome; summary: string; usage: Partial<AgentUsage> }> {
  const { usage } = parsed;
  const failed = (summary: string) => ({ outcome: 'failed' as const, summary, usage });
  if (shell.kind === 'timeout') {
    return failed(`The agent ran past its time limit of ${formatDuration(request.budget.wallTimeMs)} and was stopped.${lastOutput(shell.output)}`);
  }
  if (shell.kind === 'cancelled') return failed('The run was cancelled; the agent was stopped.');
  if (parsed.status === 'error') return failed(`The agent reported a failure: ${parsed.message ?? 'no reason given'}`);
  // a non-zero exit wins over a result that says success: the CLI broke after printing it
  if (shell.exitCode !== 0) {
    const code = shell.exitCode === null ? 'without an exit code' : `with exit code ${shell.exitCode}`;
    return failed(`The agent exited ${code}.${lastOutput(shell.output)}`);
  }
  const changed = await changedFiles(request.worktree, git);
  const summary = parsed.message?.trim() || `The agent finished without a final message.${lastOutput(shell.output)}`;
  return { outcome: changed.length > 0 ? 'changed' : 'no-change', summary, usage };
}

/** The end of the output as a fenced block for the summary, or nothing when there was none. */
function lastOutput(output: string): string {
  const trimmed = output.trim();
  if (trimmed === '') return '';
  const tail = trimmed.length > OUTPUT_TAIL_CHARS ? `…${trimmed.slice(-OUTPUT_TAIL_CHARS)}` : trimmed;
  const longestRun = Math.max(0, ...[...tail.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return ` Its last output:\n\n${fence}\n${tail}\n${fence}`;
}

function capSummary(summary: string): string {
  return summary.length > SUMMARY_LIMIT ? `${summary.slice(0, SUMMARY_LIMIT)}\n[… ${summary.length - SUMMARY_LIMIT} more characters cut]` : summary;
}

