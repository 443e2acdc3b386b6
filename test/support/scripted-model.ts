/**
 * A model for whole-app runs: a fake Messages API whose every reply is worked out from the request,
 * so any number of agents can talk to it at once. It carries out the edits an issue spells out as
 *
 *   EDIT src/a.txt: "old text" -> "new text"
 *
 * one `edit_file` call per line, then calls `finish`. A revision carries out the lines of the
 * review's feedback instead. An issue with no such line is finished as `not-actionable`; a tool
 * error ends the run `failed`.
 */
import type { Usage } from '@anthropic-ai/sdk/resources/messages';
import { reply, startFakeMessagesApi, toolUse, type FakeMessagesApi, type RecordedRequest, type ScriptStep } from './fake-messages-api.js';

const FEEDBACK_HEADING = '# Feedback from the review';
const EDIT = /EDIT (\S+): "([^"]+)" -> "([^"]*)"/g;

export function editLine(file: string, from: string, to: string): string {
  return `EDIT ${file}: "${from}" -> "${to}"`;
}

/** Whether a model request is a turn of the agent working on `repo` whose task edits `from` (the task is in every turn). */
export function isTurnOf(request: RecordedRequest, repo: string, from: string): boolean {
  const text = JSON.stringify(request.body);
  return text.includes(repo) && text.includes(`\\"${from}\\" ->`);
}

/** When each turn of that agent's conversation reached the model, in the model's own record. */
export function turnTimes(model: FakeMessagesApi, repo: string, from: string): number[] {
  return model.requests.filter((r) => isTurnOf(r, repo, from)).map((r) => r.at);
}

/**
 * `usage`: every reply's usage, instead of the one estimated from the request (a test that counts dollars);
 * `replyDelayMs`: how long each turn takes (a benchmark's agent of a known duration);
 * `beforeReply`: awaited before each answer (a test holds an agent at work).
 */
export function startScriptedModel(
  options: { usage?: Partial<Usage>; replyDelayMs?: number; beforeReply?: (request: RecordedRequest) => Promise<void> } = {},
): Promise<FakeMessagesApi> {
  const step = options.usage ? (request: RecordedRequest): ScriptStep => ({ ...worker(request), usage: options.usage }) as ScriptStep : worker;
  return startFakeMessagesApi({
    steps: [step], onExhausted: 'repeat-last',
    ...(options.replyDelayMs ? { replyDelayMs: options.replyDelayMs } : {}),
    ...(options.beforeReply ? { beforeReply: options.beforeReply } : {}),
  });
}

function worker(request: RecordedRequest): ScriptStep {
  const messages = (request.body?.messages ?? []) as Array<{ role: string; content: string | Array<{ type: string; text?: string; is_error?: boolean }> }>;
  const first = textOf(messages[0]?.content);
  const feedbackAt = first.indexOf(FEEDBACK_HEADING);
  const task = feedbackAt === -1 ? first : first.slice(feedbackAt);
  const edits = [...task.matchAll(EDIT)].map(([, path, from, to]) => ({ path: path!, from: from!, to: to! }));
  const results = messages.filter((m) => m.role === 'user' && Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result'));
  const failed = results.some((m) => (m.content as Array<{ type: string; is_error?: boolean }>).some((b) => b.is_error));
  if (failed) return reply(toolUse('finish', { outcome: 'failed', summary: 'An edit failed.' }));
  const next = edits[results.length];
  if (next) return reply(`Editing ${next.path}.`, toolUse('edit_file', { path: next.path, old_string: next.from, new_string: next.to }));
  if (edits.length === 0) return reply(toolUse('finish', { outcome: 'not-actionable', summary: 'The issue names no edit.' }));
  return reply(toolUse('finish', { outcome: 'changed', summary: `Made ${edits.length} edit(s): ${edits.map((e) => e.path).join(', ')}.` }));
}

function textOf(content: string | Array<{ type: string; text?: string }> | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((block) => block.text ?? '').join('\n');
}
