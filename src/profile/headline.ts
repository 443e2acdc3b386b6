import { PHASES, type IssueLife } from './issue-life.js';
import type { BusySample } from './view.js';

/** How far back the busy chart and the busy share look. */
export const BUSY_WINDOW_MS = 6 * 60 * 60 * 1000;

/** Of the merged issues' lead time, the share their phases spent waiting for a person. */
export function personShare(lives: IssueLife[]): number | undefined {
  let person = 0;
  let total = 0;
  for (const life of lives) {
    if (life.mergedAt === undefined) continue;
    for (const phase of PHASES) total += life.totals[phase];
    person += life.totals.person;
  }
  return total > 0 ? person / total : undefined;
}

/**
 * Agents running as a share of the slots, weighted by time over the window up to `now` (or since
 * the first sample when that is later), the same window the busy chart draws.
 */
export function busyShare(samples: BusySample[], slots: number, now: number, windowMs: number): number | undefined {
  const sorted = samples.filter((s) => s.at <= now).sort((a, b) => a.at - b.at);
  if (sorted.length === 0 || slots <= 0) return undefined;
  const start = Math.max(now - windowMs, sorted[0]!.at);
  if (now <= start) return undefined;
  let running = 0;
  let busy = 0;
  let from = start;
  for (const sample of sorted) {
    if (sample.at > start) {
      busy += running * (sample.at - from);
      from = sample.at;
    }
    running = sample.running;
  }
  busy += running * (now - from);
  return busy / (slots * (now - start));
}
