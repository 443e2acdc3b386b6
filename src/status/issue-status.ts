/** Where an issue stands, as recorded in its status comment's marker or shown by its labels (issue-statuses.ts). */
export type IssueState =
  | 'queued'
  /** Held before the queue: an open blocker, or reviewers behind (`map.maxAwaitingReview`); `reason` says which. */
  | 'waiting'
  | 'running'
  | 'pr-open'
  | 'no-change'
  | 'not-actionable'
  | 'failed'
  | 'cancelled'
  /** Plan-first mode: a plan is posted and waits for `/agent go`. */
  | 'planned';

export interface IssueStatus {
  state: IssueState;
  attempt?: number;
  run?: string;
  pr?: number;
  reason?: string;
  branch?: string;
  /** How many revision runs the issue's PR has had. */
  revision?: number;
  /** What a `waiting` issue waits for: reviews of its base's agent PRs, or its blockers. */
  hold?: 'reviews' | 'blockers';
}

/** States after which nothing more happens on the issue until someone asks again. */
export const FINAL_STATES: ReadonlySet<IssueState> = new Set(['pr-open', 'no-change', 'not-actionable', 'failed', 'cancelled', 'planned']);

const stateWords: Record<IssueState, string> = {
  queued: 'queued',
  waiting: 'waiting',
  running: 'running',
  'pr-open': 'PR open',
  'no-change': 'finished without changes',
  'not-actionable': 'not actionable',
  failed: 'failed',
  cancelled: 'cancelled',
  planned: 'plan posted, waiting for `/agent go`',
};

export function describeStatus(status: IssueStatus): string {
  const parts = [`**${stateWords[status.state]}**`];
  if (status.attempt !== undefined) parts.push(`attempt ${status.attempt}`);
  if (status.pr !== undefined) parts.push(`PR #${status.pr}`);
  const line = parts.join(' · ');
  return status.reason ? `${line}\n\n> ${status.reason.replaceAll('\n', '\n> ')}` : line;
}
