import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { AgentBudget, AgentRequest } from '../../src/agents/agent.js';
import { createCommandAgent, type CommandAgentOptions } from '../../src/agents/command-agent.js';
import { parseAiderOutput, parseClaudeOutput, parseCodexOutput, parseGenericOutput } from '../../src/agents/command-presets.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import { testSandbox } from '../support/test-sandbox.js';

let sandbox: GitSandbox;
let worktree: string;
/** Stand-in CLIs; put first on PATH, which the scrubbed environment keeps. */
let bin: string;
/** Where stand-ins leave what they saw. */
let probe: string;
/** The real sandbox, showing the stand-ins and letting them write their probes. */
let commands: Sandbox;
const savedEnv = { ...process.env };

beforeEach(async () => {
  sandbox = await createGitSandbox();
  worktree = path.join(sandbox.root, 'worktree');
  await sandbox.git(sandbox.root, 'clone', '--quiet', sandbox.remoteUrl, worktree);
  bin = path.join(sandbox.root, 'bin');
  probe = path.join(sandbox.root, 'probe');
  await mkdir(bin);
  await mkdir(probe);
  commands = await testSandbox({ readOnly: [bin], writable: [probe] });
  process.env.PATH = `${bin}${path.delimiter}${savedEnv.PATH ?? ''}`;
});

afterEach(async () => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  await sandbox.cleanup();
});

async function standIn(name: string, body: string): Promise<string> {
  const file = path.join(bin, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

const budget: AgentBudget = { maxTurns: 7, maxCostUsd: 1.5, wallTimeMs: 20_000 };

function request(overrides: Partial<AgentRequest> = {}): AgentRequest {
  return {
    worktree,
    cloneDir: path.join(worktree, '.git'),
    task: 'Resolve issue #1: say Hi instead of hello.',
    budget,
    signal: new AbortController().signal,
    ...overrides,
  };
}

function agent(options: Partial<CommandAgentOptions> = {}) {
  return createCommandAgent({ command: '', passEnv: [], sandbox: commands, hosts: [], gitEnv: sandbox.gitEnv, ...options });
}

const probed = (file: string) => readFileSync(path.join(probe, file), 'utf8');
const status = () => sandbox.git(worktree, 'status', '--porcelain');

function claudeResult(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'result', subtype: 'success', is_error: false, result: 'Changed hello to Hi in src/app.txt; checked with cat.',
    num_turns: 3, total_cost_usd: 0.42, duration_ms: 1234, session_id: 's-1',
    usage: { input_tokens: 100, cache_creation_input_tokens: 10, cache_read_input_tokens: 50, output_tokens: 20 },
    ...fields,
  });
}

/** A `sleep` duration no other process uses, to find the sandbox's processes from outside its PID namespace. */
function uniqueSleep(): string {
  return `${300 + (process.pid % 1000)}.${Date.now() % 100000}`;
}

/** Live processes still sleeping for `marker` (zombies excluded: no init reaps them in some containers). */
function sleepers(marker: string): string[] {
  return execFileSync('ps', ['-eo', 'stat=,args=']).toString().split('\n')
    .filter((line) => line.includes(`sleep ${marker}`) && !line.trim().startsWith('Z'));
}

describe('claude preset', () => {
  it('runs claude -p with the budget and the task on stdin, and reads the result: changed', async () => {
    await standIn('claude', `
printf '%s\\n' "$@" > ${probe}/args
cat > ${probe}/stdin
printf 'Hi\\n' > src/app.txt
echo "some progress on stderr" >&2
printf '%s\\n' '${claudeResult()}'
`);
    const result = await agent({ preset: 'claude', model: 'claude-sonnet-5-5' }).run(request({ feedback: 'Also keep the newline.' }));

    expect(result.outcome).toBe('changed');
    expect(result.summary).toBe('Changed hello to Hi in src/app.txt; checked with cat.');
    expect(result.usage).toMatchObject({ turns: 3, inputTokens: 160, outputTokens: 20, cacheReadTokens: 50, costUsd: 0.42 });
    expect(result.usage.durationMs).toBeGreaterThanOrEqual(0);
    const args = probed('args').split('\n');
    expect(args).toEqual(expect.arrayContaining(['-p', '--output-format', 'json', '--permission-mode', 'acceptEdits']));
    expect(args[args.indexOf('--max-turns') + 1]).toBe('7');
    expect(args[args.indexOf('--max-budget-usd') + 1]).toBe('1.5');
    expect(args[args.indexOf('--model') + 1]).toBe('claude-sonnet-5-5');
    const stdin = probed('stdin');
    expect(stdin).toContain('Resolve issue #1: say Hi instead of hello.');
    expect(stdin).toContain('Also keep the newline.');
    expect(stdin).toContain('Do not commit');
    expect(await status()).toBe('M src/app.txt');
  });

  it('is failed when claude exits 0 with is_error, with its reason', async () => {
    await standIn('claude', `printf 'Hi\\n' > src/app.txt\nprintf '%s\\n' '${claudeResult({ is_error: true, result: 'API Error: 401 invalid x-api-key' })}'`);
    const result = await agent({ preset: 'claude' }).run(request());
    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('API Error: 401 invalid x-api-key');
    expect(result.usage.costUsd).toBe(0.42);
  });

  it('is failed with a readable reason on an error subtype without a result', async () => {
    await standIn('claude', `printf '%s\\n' '${JSON.stringify({ type: 'result', subtype: 'error_max_turns', is_error: false, num_turns: 7, total_cost_usd: 1.1 })}'`);
    const result = await agent({ preset: 'claude' }).run(request());
    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('limit of turns');
    expect(result.usage).toMatchObject({ turns: 7, costUsd: 1.1 });
  });

  it('is no-change when the agent succeeds without touching a file', async () => {
    await standIn('claude', `cat > /dev/null\nprintf '%s\\n' '${claudeResult({ result: 'Already says Hi; nothing to change.' })}'`);
    const result = await agent({ preset: 'claude' }).run(request());
    expect(result).toMatchObject({ outcome: 'no-change', summary: 'Already says Hi; nothing to change.' });
    expect(await status()).toBe('');
  });

  it('cannot commit from its sandbox: the edit stays uncommitted, and the app commits', async () => {
    const before = await sandbox.git(worktree, 'rev-parse', 'HEAD');
    await standIn('claude', `
printf 'Hi\\n' > src/app.txt
git -c user.name=Agent -c user.email=agent@example.com commit --quiet -am "agent commit" 2> ${probe}/commit || echo refused >> ${probe}/commit
printf '%s\\n' '${claudeResult()}'
`);
    const result = await agent({ preset: 'claude' }).run(request());
    expect(result.outcome).toBe('changed');
    expect(probed('commit')).toContain('refused');
    expect(await sandbox.git(worktree, 'rev-parse', 'HEAD')).toBe(before);
    expect(await status()).toBe('M src/app.txt');
  });
});

describe('custom command', () => {
  it('replaces {task_file} with a file outside the worktree holding the task, removed afterwards', async () => {
    const script = await standIn('file-agent', `
[ "$1" = --message-file ] || exit 2
printf '%s' "$2" > ${probe}/task-path
cp "$2" ${probe}/task
printf 'Hi\\n' > src/app.txt
echo "Edited src/app.txt"`);
    const result = await agent({ command: `${script} --message-file {task_file}` }).run(request({ feedback: 'Use a capital H.' }));

    const taskPath = probed('task-path');
    expect(path.isAbsolute(taskPath)).toBe(true);
    expect(path.relative(worktree, taskPath).startsWith('..')).toBe(true);
    expect(existsSync(taskPath)).toBe(false);
    expect(existsSync(path.dirname(taskPath))).toBe(false);
    expect(probed('task')).toContain('Resolve issue #1: say Hi instead of hello.');
    expect(probed('task')).toContain('Use a capital H.');
    expect(result.outcome).toBe('changed');
    expect(result.summary).toContain('Edited src/app.txt');
  });

  it('reads a Claude-style JSON result from the last JSON line of a custom command', async () => {
    const script = await standIn('json-agent', `printf 'Hi\\n' > src/app.txt\necho '{"note":"not the result"}'\nprintf '%s\\n' '${claudeResult()}'\necho done`);
    const result = await agent({ command: script }).run(request());
    expect(result.outcome).toBe('changed');
    expect(result.summary).toBe('Changed hello to Hi in src/app.txt; checked with cat.');
    expect(result.usage).toMatchObject({ turns: 3, costUsd: 0.42 });
  });

  it('is failed when the command exits non-zero after editing, with the end of its output', async () => {
    const script = await standIn('broken-agent', `printf 'Hi\\n' > src/app.txt\necho "fatal: model unavailable" >&2\nexit 1`);
    const result = await agent({ command: script }).run(request());
    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('exit code 1');
    expect(result.summary).toContain('fatal: model unavailable');
  });

  it('is no-change when the command changes nothing', async () => {
    const script = await standIn('idle-agent', 'echo "I looked around and found nothing to do."');
    const result = await agent({ command: script }).run(request());
    expect(result.outcome).toBe('no-change');
    expect(result.summary).toContain('I looked around and found nothing to do.');
  });

  it('keeps the end of long output, where the result is', async () => {
    const script = await standIn('chatty-agent', `i=0\nwhile [ $i -lt 3000 ]; do echo "line $i of chatter"; i=$((i+1)); done\nprintf '%s\\n' '${claudeResult()}'`);
    const result = await agent({ command: script, maxOutputBytes: 4096 }).run(request());
    expect(result.outcome).toBe('no-change');
    expect(result.usage.costUsd).toBe(0.42);
  });

  it('kills a command that hangs at the time limit, its child processes too', async () => {
    const marker = uniqueSleep();
    const script = await standIn('hanging-agent', `echo "$HOME" > ${probe}/home\nsleep ${marker} &\nsleep ${marker}`);
    const started = Date.now();
    const result = await agent({ command: script }).run(request({ budget: { ...budget, wallTimeMs: 1500 } }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('time limit');
    expect(sleepers(marker)).toEqual([]);
    // HOME was the sandbox's own, gone with it
    expect(probed('home').trim()).toBe('/home/agent');
    expect(existsSync('/home/agent')).toBe(false);
  });

  it('stops within a second when cancelled', async () => {
    const marker = uniqueSleep();
    const script = await standIn('hanging-agent', `sleep ${marker} &\nsleep ${marker}`);
    const controller = new AbortController();
    const running = agent({ command: script }).run(request({ signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const aborted = Date.now();
    controller.abort();
    const result = await running;
    expect(Date.now() - aborted).toBeLessThan(1000);
    expect(result.outcome).toBe('failed');
    expect(result.summary).toMatch(/cancelled/);
    expect(sleepers(marker)).toEqual([]);
  });

  it('runs with a scrubbed environment: no secrets, a temporary HOME, exactly the passed variables', async () => {
    Object.assign(process.env, {
      GITHUB_TOKEN: 'ghs_fake', PRIVATE_KEY: 'fake-key', WEBHOOK_SECRET: 'fake-secret', ANTHROPIC_API_KEY: 'sk-ant-fake',
      AGENT_API_KEY: 'from-process-env', NOT_PASSED: 'nope',
    });
    const script = await standIn('env-agent', `env > ${probe}/env\necho "key is $AGENT_API_KEY"`);
    const result = await agent({
      command: script, passEnv: ['AGENT_API_KEY', 'UNSET_VARIABLE'], env: { ...process.env, AGENT_API_KEY: 'passed-key-123456' },
    }).run(request());

    const env = Object.fromEntries(probed('env').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const name of ['GITHUB_TOKEN', 'PRIVATE_KEY', 'WEBHOOK_SECRET', 'ANTHROPIC_API_KEY', 'NOT_PASSED', 'UNSET_VARIABLE']) {
      expect(env[name]).toBeUndefined();
    }
    expect(env.AGENT_API_KEY).toBe('passed-key-123456');
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.HOME).toBeDefined();
    expect(env.HOME).not.toBe(savedEnv.HOME);
    expect(path.relative(worktree, env.HOME ?? '').startsWith('..')).toBe(true);
    expect(existsSync(env.HOME ?? '')).toBe(false);
    // a passed value (a model key, usually) never reaches the summary
    expect(result.summary).toContain('key is ***');
  });

  it("reads a passed variable from the operator's source variable, never the app's own of that name", async () => {
    const script = await standIn('env-agent', `env > ${probe}/env`);
    await agent({
      command: script, passEnv: ['ANTHROPIC_API_KEY'], envSources: { ANTHROPIC_API_KEY: 'CLAUDE_CODE_KEY' },
      env: { ANTHROPIC_API_KEY: 'the-apps-own-model-key', CLAUDE_CODE_KEY: 'the-clis-own-key' },
    }).run(request());
    expect(probed('env')).toContain('ANTHROPIC_API_KEY=the-clis-own-key');
    expect(probed('env')).not.toContain('the-apps-own-model-key');
  });

  it('passes variables from process.env by default', async () => {
    process.env.AGENT_API_KEY = 'default-source';
    const script = await standIn('env-agent', `env > ${probe}/env`);
    await agent({ command: script, passEnv: ['AGENT_API_KEY'] }).run(request());
    expect(probed('env')).toContain('AGENT_API_KEY=default-source');
  });

  it('fails clearly when there is no command at all', async () => {
    const result = await agent({ command: '  ' }).run(request());
    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('agent.command');
  });
});

describe('codex preset', () => {
  const events = (...lines: object[]) => lines.map((line) => JSON.stringify(line)).join('\n');

  it('parses the JSONL events: usage, turns, last agent message', async () => {
    await standIn('codex', `
printf '%s\\n' "$@" > ${probe}/args
cat > ${probe}/stdin
printf 'Hi\\n' > src/app.txt
cat <<'EOF'
${events(
  { type: 'thread.started', thread_id: 't-1' },
  { type: 'turn.started' },
  { type: 'item.completed', item: { id: 'item_0', type: 'reasoning', text: 'thinking' } },
  { type: 'item.completed', item: { id: 'item_1', type: 'agent_message', text: 'Looking at the file.' } },
  { type: 'error', message: 'Reconnecting... 1/5' },
  { type: 'turn.completed', usage: { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 80 } },
  { type: 'turn.started' },
  { type: 'item.completed', item: { id: 'item_2', type: 'agent_message', text: 'Changed hello to Hi.' } },
  { type: 'turn.completed', usage: { input_tokens: 2500, cached_input_tokens: 1200, output_tokens: 150 } },
)}
EOF`);
    const result = await agent({ preset: 'codex' }).run(request());
    expect(result.outcome).toBe('changed');
    expect(result.summary).toBe('Changed hello to Hi.');
    expect(result.usage).toMatchObject({ turns: 2, inputTokens: 2500, cacheReadTokens: 1200, outputTokens: 150, costUsd: 0 });
    expect(probed('args').split('\n')).toEqual(expect.arrayContaining(['exec', '--json', '--skip-git-repo-check', '-']));
    expect(probed('stdin')).toContain('Resolve issue #1');
  });

  it('is failed on turn.failed', async () => {
    await standIn('codex', `cat <<'EOF'
${events({ type: 'turn.started' }, { type: 'turn.failed', error: { message: 'stream disconnected before completion' } })}
EOF`);
    const result = await agent({ preset: 'codex' }).run(request());
    expect(result.outcome).toBe('failed');
    expect(result.summary).toContain('stream disconnected before completion');
  });
});

describe('aider preset', () => {
  it('gets the task as a message file; tokens and cost come from its Tokens lines; its cache folder is not a change', async () => {
    await standIn('aider', `
printf '%s\\n' "$@" > ${probe}/args
while [ $# -gt 0 ]; do [ "$1" = --message-file ] && cp "$2" ${probe}/task; shift; done
mkdir -p .aider.tags.cache.v4 && echo cache > .aider.tags.cache.v4/cache.db
printf 'Hi\\n' > src/app.txt
echo "Applied edit to src/app.txt"
echo "Tokens: 2.5k sent, 1.2k cache hit, 512 received. Cost: \\$0.01 message, \\$0.01 session."
echo "Tokens: 3.1k sent, 98 received. Cost: \\$0.02 message, \\$0.03 session."
`);
    const result = await agent({ preset: 'aider' }).run(request());
    expect(result.outcome).toBe('changed');
    expect(result.summary).toContain('Applied edit to src/app.txt');
    expect(result.usage).toMatchObject({ turns: 2, inputTokens: 5600, outputTokens: 610, cacheReadTokens: 1200, costUsd: 0.03 });
    expect(probed('task')).toContain('Resolve issue #1');
    const args = probed('args').split('\n');
    expect(args).toEqual(expect.arrayContaining(['--yes-always', '--no-auto-commits', '--no-stream', '--message-file', '--no-detect-urls', '--disable-playwright']));
    expect(await status()).toBe('M src/app.txt');
  });
});

describe('parsers', () => {
  it('claude: the last result object, also inside a --verbose message array', () => {
    const array = JSON.stringify([{ type: 'system' }, { type: 'result', subtype: 'success', is_error: false, result: 'ok', num_turns: 2 }]);
    expect(parseClaudeOutput(`noise\n${array}\n`)).toMatchObject({ status: 'success', message: 'ok', usage: { turns: 2 } });
    expect(parseClaudeOutput('not json at all')).toEqual({ status: 'unknown', usage: {} });
  });

  it('codex: unknown without any turn, error when the last turn failed', () => {
    expect(parseCodexOutput('plain text').status).toBe('unknown');
    expect(parseCodexOutput('{"type":"error","message":"bad key"}')).toMatchObject({ status: 'error', message: 'bad key' });
  });

  it('aider: the cost is read also from a line of its own', () => {
    const output = 'Tokens: 1.5k sent, 200 received.\nCost: $0.02 message, $0.05 session.\n';
    expect(parseAiderOutput(output).usage).toEqual({ turns: 1, inputTokens: 1500, outputTokens: 200, cacheReadTokens: 0, costUsd: 0.05 });
  });

  it('aider: nothing to read is zero', () => {
    expect(parseAiderOutput('no usage here').usage).toEqual({ turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0 });
  });

  it('generic: a JSON line that is not a result is ignored', () => {
    expect(parseGenericOutput('{"progress": 3}').status).toBe('unknown');
  });
});
