import type { AgentUsage } from '../agents/agent.js';

export function formatTokens(n: number): string {
  return n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** One line a person reads at a glance: turns, tokens, cost and time of a run. */
export function renderUsage(usage: AgentUsage): string {
  const tokens = `${formatTokens(usage.inputTokens + usage.outputTokens)} tokens` +
    (usage.cacheReadTokens > 0 ? ` (${formatTokens(usage.cacheReadTokens)} from cache)` : '');
  return `${usage.turns} turns · ${tokens} · $${usage.costUsd.toFixed(2)} · ${formatDuration(usage.durationMs)}`;
}
