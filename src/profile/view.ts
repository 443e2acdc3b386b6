/**
 * What the dashboard shows, as plain data: the profile builds it from its records, the renderers
 * turn it into HTML. Times are milliseconds since the epoch.
 */

/** Where an issue is on its way from label to merge; `ended` is a run that ended without a PR (no change, not actionable, cancelled, planned). */
export type Stage = 'queued' | 'running' | 'pr-open' | 'changes-requested' | 'approved' | 'merged' | 'flagged' | 'failed' | 'ended';

export const STAGES: ReadonlyArray<{ stage: Stage; title: string }> = [
  { stage: 'queued', title: 'Queued' },
  { stage: 'running', title: 'Running' },
  { stage: 'pr-open', title: 'PR open' },
  { stage: 'changes-requested', title: 'Changes requested' },
  { stage: 'approved', title: 'Approved' },
  { stage: 'merged', title: 'Merged' },
  { stage: 'flagged', title: 'Flagged' },
  { stage: 'failed', title: 'Failed' },
  { stage: 'ended', title: 'Ended without PR' },
];

export interface IssueSummary {
  /** `owner/name` */
  repo: string;
  issue: number;
  title: string;
  url: string;
  stage: Stage;
  /** When the issue entered its stage. */
  since: number;
  pull?: { number: number; url: string; base: string };
  /** Why it failed, ended or is flagged. */
  reason?: string;
  /** Agent runs so far (map, revision and rebase runs). */
  runs: number;
  revisionRounds: number;
  costUsd: number;
  tokens: number;
}

export interface TimelineEntry {
  at: number;
  /** queued, started, step, used, ended, pr-opened, review, revised, conflict, merged… */
  what: string;
  detail: string;
  /** Consecutive steps with the same tool are one entry. */
  count: number;
}

export interface RunRecordView extends IssueSummary {
  timeline: TimelineEntry[];
  /** Entries dropped from the front because the timeline is bounded. */
  dropped: number;
}

export interface MergeOrderView {
  repo: string;
  base: string;
  at: number;
  /** The PRs still to merge, first to merge first. */
  order: number[];
  waiting: Array<{ number: number; reason: string }>;
  flagged: number[];
}

/** The scheduler's load at one moment: a step chart of these shows agents busy over time. */
export interface BusySample {
  at: number;
  running: number;
  queued: number;
}

/** How long a PR waited for its first review; `waiting` while it still does (then `waitMs` is its age so far). */
export interface ReviewWait {
  repo: string;
  pr: number;
  url: string;
  waitMs: number;
  at: number;
  waiting: boolean;
}

export interface DashboardView {
  now: number;
  /** When this process started: the records before then were rebuilt from GitHub. */
  startedAt: number;
  /** The global cap on agents running at once, and the scheduler's jobs now (revisions and rebases included). */
  slots: number;
  running: number;
  queued: number;
  /** Notifying GitHub writes waiting for room in the write budget (GitHub's secondary limit). */
  writesWaiting: number;
  issues: IssueSummary[];
  orders: MergeOrderView[];
  busy: BusySample[];
  reviewWaits: ReviewWait[];
  /** UTC days, oldest first. */
  costByDay: Array<{ day: string; usd: number }>;
}
