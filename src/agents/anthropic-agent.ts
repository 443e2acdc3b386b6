import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool, ToolResultBlockParam, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import { changedFiles } from '../git/worktree-git.js';
import type { Agent, AgentOutcome, AgentProgress, AgentRequest, AgentResult, AgentUsage } from './agent.js';
import { costUsd, type Price, type TokenCounts } from './pricing.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { buildSystemPrompt } from './system-prompt.js';
import { ToolError, type AgentTool, type ToolContext } from './tools/tool.js';
import { formatDuration } from '../text.js';

export interface AnthropicAgentOptions {
  client: Anthropic;
  model: string;
  tools: AgentTool[];
  allowedCommands: string[];
  /** Where `run_command` runs. */
  sandbox: Sandbox;
  price: Price;
  /** The longest one command may run, within the run's remaining wall time. */
  commandTimeoutMs?: number;
  maxOutputTokens?: number;
  gitEnv?: Record<string, string>;
  /** How often progress is reported at most. */
  progressIntervalMs?: number;
}

const finishInput = z.strictObject({
  outcome: z.enum(['changed', 'no-change', 'not-actionable', 'failed'])
    .describe('changed: you edited files; no-change: nothing needs changing; not-actionable: the issue cannot be done as written; failed: you could not finish'),
  summary: z.string().min(1)
    .describe('For the reviewer: what changed and why, how you verified it (commands and results), open questions'),
});

const finishTool: Tool = {
  name: 'finish',
  description: 'End the run. Call exactly once, when you are done, with the outcome and the summary for the PR.',
  input_schema: toInputSchema(finishInput),
};

/** What a plan-first run may use: reading, never writing or running. */
const READ_ONLY_TOOLS = new Set(['list_files', 'read_file', 'search']);

const NUDGE = 'You ended your turn without calling a tool. If you are done, call `finish` with the outcome and summary; otherwise continue with the tools.';

/**
 * The built-in agent: a tool-use loop on the Messages API. Each turn sends the whole conversation
 * with a top-level cache breakpoint (the cached prefix grows with it, and cache reads cost a tenth
 * of input), runs the tools the model asked for, and checks the budgets. A budget that runs out
 * ends the run `failed` with what was done so far left in the worktree.
 */
export function createAnthropicAgent(options: AnthropicAgentOptions): Agent {
  const definition = (t: AgentTool): Tool => ({ name: t.name, description: t.description, input_schema: toInputSchema(t.input) });
  const allTools = new Map(options.tools.map((t) => [t.name, t]));
  const readOnlyTools = new Map(options.tools.filter((t) => READ_ONLY_TOOLS.has(t.name)).map((t) => [t.name, t]));
  const allDefinitions = [...options.tools.map(definition), finishTool];
  const readOnlyDefinitions = [...[...readOnlyTools.values()].map(definition), finishTool];

  // the system prompt of each prepared worktree; a failed read is read again by the run
  const prepared = new Map<string, Promise<string | undefined>>();
  const systemPrompt = (worktree: string) => buildSystemPrompt({ worktree, allowedCommands: options.allowedCommands, ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}) });
  return {
    prepare: async (worktree: string) => {
      const reading = systemPrompt(worktree).catch(() => undefined);
      prepared.set(worktree, reading);
      await reading;
    },
    run: async (request: AgentRequest) => {
      const ready = prepared.get(request.worktree);
      prepared.delete(request.worktree);
      const system = (await ready) ?? await systemPrompt(request.worktree);
      return new AgentRun(options, request, {
        tools: request.readOnly ? readOnlyTools : allTools,
        definitions: request.readOnly ? readOnlyDefinitions : allDefinitions,
      }).run(system);
    },
  };
}

/**
 * One run of the tool-use loop: ask the model, carry out the tools it calls, answer with their
 * results, until it calls `finish`, a budget runs out, or it is cancelled. It keeps the run's
 * turns and tokens, and its own abort: the caller's signal, or the wall time running out mid-request.
 */
class AgentRun {
  readonly #started = Date.now();
  readonly #deadline: number;
  readonly #tokens: TokenCounts = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  readonly #controller = new AbortController();
  readonly #context: ToolContext;
  #turns = 0;
  #lastTool: string | undefined;
  #lastProgress = 0;

  constructor(
    private readonly options: AnthropicAgentOptions,
    private readonly request: AgentRequest,
    private readonly tools: { tools: Map<string, AgentTool>; definitions: Tool[] },
  ) {
    this.#deadline = this.#started + request.budget.wallTimeMs;
    this.#context = {
      worktree: request.worktree,
      cloneDir: request.cloneDir,
      sandbox: options.sandbox,
      signal: this.#controller.signal,
      allowedCommands: options.allowedCommands,
      commandTimeoutMs: () => Math.max(1000, Math.min(options.commandTimeoutMs ?? 10 * 60_000, this.#deadline - Date.now())),
      ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
    };
  }

  async run(system: string): Promise<AgentResult> {
    const { request } = this;
    const onAbort = () => this.#controller.abort(request.signal.reason);
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
    const wallTimer = setTimeout(() => this.#controller.abort(new Error('wall time')), Math.max(0, this.#deadline - Date.now()));
    try {
      if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
      return await this.#loop(system);
    } catch (error) {
      if (request.signal.aborted) return this.#end('failed', 'The run was cancelled.');
      if (this.#controller.signal.aborted) {
        return this.#end('failed', `Stopped: the time budget of ${formatDuration(request.budget.wallTimeMs)} ran out. The work so far is kept.`);
      }
      if (error instanceof Anthropic.APIError) {
        return this.#end('failed', `The model API failed (${error.status ?? 'no response'}): ${apiMessage(error)}. The work so far is kept.`);
      }
      throw error;
    } finally {
      clearTimeout(wallTimer);
      request.signal.removeEventListener('abort', onAbort);
      this.#report(true);
    }
  }

  /** Turns until `finish`, a budget, or a reply with no tool call after one nudge. */
  async #loop(system: string): Promise<AgentResult> {
    const { request } = this;
    const firstMessage = request.feedback ? `${request.task}\n\n# Feedback from the review, to act on now\n\n${request.feedback}` : request.task;
    const messages: MessageParam[] = [{ role: 'user', content: firstMessage }];
    let nudged = false;
    for (;;) {
      const budgetLeft = checkBudgets(request, this.#turns, this.#usage(), this.#deadline);
      if (budgetLeft) return this.#end('failed', `${budgetLeft} The work so far is kept.`);
      const response = await this.#ask(system, messages);
      const calls = response.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      if (calls.length > 0) {
        const answered = await this.#carryOut(calls);
        this.#report();
        if (answered.finish) return this.#end(answered.finish.outcome, answered.finish.summary);
        messages.push({ role: 'user', content: answered.results });
      } else if (!nudged && response.stop_reason !== 'max_tokens') {
        nudged = true;
        messages.push({ role: 'user', content: NUDGE });
      } else {
        return this.#endWithoutFinish(response);
      }
    }
  }

  /** One request to the model, its usage counted and its reply added to the conversation. */
  async #ask(system: string, messages: MessageParam[]): Promise<Anthropic.Message> {
    const response = await this.options.client.messages.create({
      model: this.options.model,
      max_tokens: this.options.maxOutputTokens ?? 8192,
      system,
      tools: this.tools.definitions,
      messages,
      cache_control: { type: 'ephemeral' },
    }, { signal: this.#controller.signal });
    this.#turns++;
    this.#tokens.inputTokens += response.usage.input_tokens;
    this.#tokens.outputTokens += response.usage.output_tokens;
    this.#tokens.cacheReadTokens += response.usage.cache_read_input_tokens ?? 0;
    this.#tokens.cacheWriteTokens += response.usage.cache_creation_input_tokens ?? 0;
    messages.push({ role: 'assistant', content: response.content });
    return response;
  }

  /** Runs each tool the model called, in order; `finish` (when valid) ends the run after this turn. */
  async #carryOut(calls: ToolUseBlock[]): Promise<{ results: ToolResultBlockParam[]; finish?: z.infer<typeof finishInput> }> {
    const results: ToolResultBlockParam[] = [];
    let finish: z.infer<typeof finishInput> | undefined;
    for (const call of calls) {
      this.#lastTool = call.name;
      this.request.onStep?.(call.name);
      if (call.name !== 'finish') {
        results.push(await runTool(this.tools.tools.get(call.name), call, this.#context));
        continue;
      }
      const parsed = finishInput.safeParse(call.input);
      if (parsed.success) finish = parsed.data;
      results.push(parsed.success
        ? { type: 'tool_result', tool_use_id: call.id, content: 'Run finished.' }
        : { type: 'tool_result', tool_use_id: call.id, content: describeInvalid(parsed.error), is_error: true });
    }
    return { results, ...(finish ? { finish } : {}) };
  }

  /** The model stopped talking without `finish`: nothing changed is no-change; edits that may be cut off half-way are kept, never a PR. */
  async #endWithoutFinish(response: Anthropic.Message): Promise<AgentResult> {
    const said = response.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n').trim();
    const changed = (await changedFiles(this.request.worktree, { env: this.options.gitEnv ?? {} })).length > 0;
    if (!changed) return this.#end('no-change', said || 'The agent stopped without a summary.');
    const cut = response.stop_reason === 'max_tokens' ? ' (its reply was cut off at the output limit)' : '';
    return this.#end('failed', `The agent stopped without calling finish${cut}. The work so far is kept.${said ? `\n\nIts last words: ${said}` : ''}`);
  }

  #usage(): AgentUsage {
    const t = this.#tokens;
    return {
      turns: this.#turns,
      inputTokens: t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens,
      outputTokens: t.outputTokens,
      cacheReadTokens: t.cacheReadTokens,
      costUsd: costUsd(this.options.price, t),
      durationMs: Date.now() - this.#started,
    };
  }

  #end(outcome: AgentOutcome, summary: string): AgentResult {
    return { outcome, summary, usage: this.#usage() };
  }

  /** Progress for the status comment, at most every few seconds (or now, at the end). */
  #report(force = false): void {
    const { onProgress } = this.request;
    if (!onProgress || (!force && Date.now() - this.#lastProgress < (this.options.progressIntervalMs ?? 5000))) return;
    this.#lastProgress = Date.now();
    const progress: AgentProgress = { ...this.#usage(), ...(this.#lastTool ? { lastTool: this.#lastTool } : {}) };
    onProgress(progress);
  }
}

/** A sentence naming the budget that ran out, or null while all have room. */
function checkBudgets(request: AgentRequest, turns: number, used: { costUsd: number; inputTokens: number; outputTokens: number }, deadline: number): string | null {
  const { budget } = request;
  if (turns >= budget.maxTurns) return `Stopped: the turn budget of ${budget.maxTurns} turns ran out.`;
  if (used.costUsd >= budget.maxCostUsd) {
    return `Stopped: the cost budget of $${budget.maxCostUsd.toFixed(2)} ran out after ${turns} turns ($${used.costUsd.toFixed(2)} spent).`;
  }
  if (budget.maxTokens !== undefined && used.inputTokens + used.outputTokens >= budget.maxTokens) {
    return `Stopped: the token budget of ${budget.maxTokens} tokens ran out after ${turns} turns.`;
  }
  if (Date.now() >= deadline) return `Stopped: the time budget of ${formatDuration(budget.wallTimeMs)} ran out.`;
  return null;
}

async function runTool(tool: AgentTool | undefined, call: ToolUseBlock, context: ToolContext): Promise<ToolResultBlockParam> {
  const error = (content: string): ToolResultBlockParam => ({ type: 'tool_result', tool_use_id: call.id, content, is_error: true });
  if (!tool) return error(`There is no tool named ${call.name}.`);
  const input = tool.input.safeParse(call.input);
  if (!input.success) return error(describeInvalid(input.error));
  try {
    return { type: 'tool_result', tool_use_id: call.id, content: await tool.run(input.data, context) };
  } catch (e) {
    if (e instanceof ToolError) return error(e.message);
    if (context.signal.aborted) throw e;
    return error(`The tool failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function describeInvalid(error: z.ZodError): string {
  return `Invalid input: ${error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`;
}

function apiMessage(error: InstanceType<typeof Anthropic.APIError>): string {
  const body = error.error as { error?: { message?: string } } | undefined;
  return body?.error?.message ?? error.message;
}

function toInputSchema(schema: z.ZodType): Tool['input_schema'] {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
  return rest as Tool['input_schema'];
}
