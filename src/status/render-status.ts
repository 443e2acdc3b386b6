import type { AgentProgress } from '../agents/agent.js';
import type { IssueStatus } from './issue-status.js';
import { formatDuration, formatTokens } from '../text.js';

export interface StatusView {
  status: IssueStatus;
  position?: { place: number; of: number };
  progress?: AgentProgress;
  prUrl?: string;
  usageLine?: string;
  /** A run stopped by a restart of the app, waiting to run again. */
  interrupted?: boolean;
}

/** The visible text of an issue's status comment, for each state. */
export function renderStatus(view: StatusView): string {
  const { status } = view;
  const attempt = status.attempt && status.attempt > 1 ? ` (attempt ${status.attempt})` : '';
  switch (status.state) {
    case 'queued':
      if (view.interrupted) return `⏳ **Interrupted by a restart of agent-mapreduce${attempt}**; it runs again once the app is back.`;
      return `⏳ **Queued${attempt}**` +
        (view.position ? ` — ${ordinal(view.position.place)} of ${view.position.of} in line.` : '.') +
        ' Comment `/agent stop` to take it out.';
    case 'waiting':
      return `⏸️ **Waiting${attempt}** — ${status.reason ?? 'it starts by itself once it may.'} Comment \`/agent stop\` to take it out.`;
    case 'running': {
      const p = view.progress;
      const progress = p
        ? ` — turn ${p.turns} · ${formatTokens(p.inputTokens + p.outputTokens)} tokens · $${p.costUsd.toFixed(2)} · ` +
          `${formatDuration(p.durationMs)}${p.lastTool ? ` · last step: ${p.lastTool}` : ''}`
        : '';
      const what = status.revision && status.pr ? `Revising PR #${status.pr} (round ${status.revision})` : `Running${attempt}`;
      return `🏃 **${what}**${progress}. Comment \`/agent stop\` to cancel.`;
    }
    case 'pr-open':
      return `✅ **PR opened:** ${view.prUrl ?? `#${status.pr}`}${attempt}` +
        (status.revision ? ` · revised ${status.revision === 1 ? 'once' : `${status.revision} times`}` : '') +
        (view.usageLine ? `\n\nRun: ${view.usageLine}` : '') +
        '\n\nReview it like any other PR; request changes or comment `/agent revise <what to change>` there.';
    case 'no-change':
      return `ℹ️ **Finished without changes${attempt}.** ${quote(status.reason)}`;
    case 'not-actionable':
      return `ℹ️ **Not actionable as written${attempt}.** ${quote(status.reason)}\n\nEdit the issue and comment \`/agent retry\` to try again.`;
    case 'failed':
      return `❌ **Failed${attempt}.** ${quote(status.reason)}` +
        (status.branch ? `\n\nThe work so far is on the branch \`${status.branch}\`.` : '') +
        '\n\nComment `/agent retry` to run it again.';
    case 'planned':
      return `📝 **Plan posted${attempt}** below. A writer comments \`/agent go\` to implement it (text after \`go\` is added as guidance).`;
    case 'cancelled':
      return `⏹️ **Cancelled${attempt}.** ${quote(status.reason)}`;
  }
}

function quote(reason: string | undefined): string {
  return reason ? `\n\n> ${reason.trim().replaceAll('\n', '\n> ')}` : '';
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

