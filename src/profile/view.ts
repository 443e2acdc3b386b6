import type { PhaseSpan } from './issue-life.js';

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
  headline: Headline;
}

/** The human-bandwidth figures of the header; each absent until there is something to measure. */
export interface Headline {
  /** Of the lead time (label → merge) of the merged issues remembered, the share spent waiting for a person. */
  personShare?: number;
  /**
   * The mean autonomous stretch: the agents' running time on one issue (map, revision and rebase
   * runs added up) between two touches by a person (the label, a review, the merge or close; a run
   * ending without a PR hands the issue back too), over the stretches that ended in this process.
   */
  meanStretchMs?: number;
  /** Agents running as a share of the slots, averaged over time in the busy chart's window. */
  busyShare?: number;
  /** PRs whose next step is a person's review (the Ready for review page). */
  ready: number;
}

/** One issue's life from label to merge (or to now, or to where it paused), as phases in order. */
export interface IssueLifeView {
  repo: string;
  issue: number;
  title: string;
  url: string;
  start: number;
  end: number;
  state: 'merged' | 'under-way' | 'paused';
  spans: PhaseSpan[];
  /** Spans dropped from the front because a life keeps a bounded number. */
  dropped: number;
}

/** A PR waiting for a person's review, with the breadcrumb to re-enter it from. */
export interface ReadyPull {
  repo: string;
  issue: number;
  title: string;
  issueUrl: string;
  pr: number;
  url: string;
  base: string;
  review: 'first' | 're-review';
  /** Since when it waits: the PR opened, or the agent pushed its latest revision. */
  since: number;
  summary?: string;
  files?: string[];
  verified?: string[];
  checks?: 'pending' | 'passed' | 'failed';
  costUsd: number;
  revisionRounds: number;
}

/** The ready PRs of one area (top folders of their changed files) of one repository, oldest first. */
export interface ReadyGroup {
  repo: string;
  area: string;
  pulls: Array<ReadyPull & { alsoTouches: string[] }>;
}
