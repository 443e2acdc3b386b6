import type { AgentUsage } from '../agents/agent.js';
import { formatDuration, formatTokens } from '../text.js';

/** One line a person reads at a glance: turns, tokens, cost and time of a run. */
export function renderUsage(usage: AgentUsage): string {
  const tokens = `${formatTokens(usage.inputTokens + usage.outputTokens)} tokens` +
    (usage.cacheReadTokens > 0 ? ` (${formatTokens(usage.cacheReadTokens)} from cache)` : '');
  return `${usage.turns} turns · ${tokens} · $${usage.costUsd.toFixed(2)} · ${formatDuration(usage.durationMs)}`;
}
