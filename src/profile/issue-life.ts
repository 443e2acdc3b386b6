/**
 * Where an issue's time goes, from label to merge. At every moment of its life an issue is in
 * exactly one phase, so the phases of a merged issue add up to its lead time:
 * - `queued`: labelled (or held before the queue, or waiting for a slot) until its map run starts;
 * - `agent`: a map run going;
 * - `person`: a PR open with no run going and its checks not pending: it waits for a first review,
 *   a re-review or an approval to merge; also the gap after a run that ended without a PR (or a PR
 *   closed) until a person brings the issue back, since then nothing moves without a person;
 * - `revising`: a revision or rebase run queued or going: the person has answered, the agent has the ball;
 * - `ci`: a PR open, no run going, and its head's required checks pending.
 */
export const PHASES = ['queued', 'agent', 'person', 'revising', 'ci'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseSpan {
  phase: Phase;
  from: number;
  to: number;
}

export interface IssueLife {
  start: number;
  /** Closed spans, oldest first; bounded, the oldest dropped first (their time stays in `totals`). */
  spans: PhaseSpan[];
  dropped: number;
  current?: { phase: Phase; since: number };
  /** When the life paused: no run, no open PR (a run ended without a PR, or the PR was closed). */
  pausedAt?: number;
  /** What the pause counts as when the life goes on: a person's turn, unless the app released a hold to queue the run. */
  pausedAs?: Phase;
  mergedAt?: number;
  /** Milliseconds per phase over every closed span, dropped ones included. */
  totals: Record<Phase, number>;
}

const MAX_SPANS = 100;

export function noPhaseTime(): Record<Phase, number> {
  return { queued: 0, agent: 0, person: 0, revising: 0, ci: 0 };
}

/**
 * Moves the life to `next` at `at` (undefined: no phase, a pause, or the end when `merged`); a life
 * that has ended, or none, starts anew (at `startAt` if earlier: a PR rebuilt after a restart opened
 * before it was heard of). Returns the life, now merged when this move ended it.
 */
export function moveLife(
  life: IssueLife | undefined, next: Phase | undefined, at: number, options: { merged: boolean; startAt?: number; pauseAs?: Phase },
): IssueLife | undefined {
  if (!life || life.mergedAt !== undefined) {
    if (next === undefined) return life;
    const start = Math.min(at, options.startAt ?? at);
    return { start, spans: [], dropped: 0, current: { phase: next, since: start }, totals: noPhaseTime() };
  }
  // events rebuilt from GitHub may carry an earlier time than the phase they end began
  const now = Math.max(at, life.current?.since ?? life.pausedAt ?? life.start);
  if (life.current && life.current.phase === next) return life;
  if (life.current) close(life, life.current.phase, life.current.since, now);
  else if (life.pausedAt !== undefined && (next !== undefined || options.merged)) close(life, life.pausedAs ?? 'person', life.pausedAt, now);
  else if (life.pausedAt !== undefined) return life;
  delete life.current;
  delete life.pausedAt;
  delete life.pausedAs;
  if (next !== undefined) life.current = { phase: next, since: now };
  else if (options.merged) life.mergedAt = now;
  else {
    life.pausedAt = now;
    if (options.pauseAs) life.pausedAs = options.pauseAs;
  }
  return life;
}

function close(life: IssueLife, phase: Phase, from: number, to: number): void {
  if (to <= from) return;
  life.totals[phase] += to - from;
  const last = life.spans.at(-1);
  if (last && last.phase === phase && last.to === from) {
    last.to = to;
    return;
  }
  life.spans.push({ phase, from, to });
  if (life.spans.length > MAX_SPANS) {
    life.spans.shift();
    life.dropped++;
  }
}

/** The life's spans up to `now`, the one going included; where it ends (merge, pause or now). */
export function spansUntil(life: IssueLife, now: number): { spans: PhaseSpan[]; end: number } {
  const spans = life.spans.map((s) => ({ ...s }));
  if (life.current && now > life.current.since) spans.push({ phase: life.current.phase, from: life.current.since, to: now });
  const end = life.mergedAt ?? life.pausedAt ?? Math.max(now, life.current?.since ?? life.start);
  return { spans, end };
}
