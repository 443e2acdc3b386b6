import type { JobWork } from '../jobs/job-queue.js';
import { moveLife, type IssueLife, type Phase } from './issue-life.js';
import type { IssueRef, ReviewState } from './profile-event.js';
import type { IssueSummary, Stage, TimelineEntry } from './view.js';
import { clip } from '../text.js';

export interface PullRecord {
  number: number;
  url: string;
  base: string;
  openedAt?: number;
  firstReviewAt?: number;
  /** Each writer's latest approval or change request since the agent's last revision. */
  verdicts: Map<string, ReviewState>;
  reviewIds: Set<number>;
  approvedAt?: number;
  changesRequestedAt?: number;
  rounds: number;
  changeRequests: number;
  conflict?: { files: string[]; with: string };
  mergedAt?: number;
  closed: boolean;
  /** The head as last heard of, and heads since replaced (whose late check results no longer count). */
  head?: string;
  replacedHeads: string[];
  /** The required checks of `head`. */
  checks?: { sha: string; state: 'pending' | 'passed' | 'failed'; failed?: string[] };
  /** When the agent last pushed a revision: a re-review is waited for since then. */
  revisedAt?: number;
  /** The reviewer's breadcrumb, from the run that opened the PR. */
  breadcrumb?: { summary: string; files: string[]; verified: string[] };
}

export interface IssueRecord extends IssueRef {
  title: string;
  live?: 'queued' | 'running';
  /** The work of the job running and of the one queued: which phase the issue is in. */
  runningWork?: JobWork;
  queuedWork?: JobWork;
  /** Why the issue is held before the queue (pacing, blockers), while it is. */
  held?: string;
  life?: IssueLife;
  /** The agents' running time on this issue since a person last touched it: the autonomous stretch so far. */
  stretchMs: number;
  queuedAt?: number;
  startedAt?: number;
  /** How the running job ended, known before the scheduler reports it finished. */
  outcome?: string;
  ended?: { outcome: string; reason?: string };
  failed: boolean;
  pull?: PullRecord;
  runs: number;
  costUsd: number;
  tokens: number;
  stage?: Stage;
  stageSince: number;
  timeline: TimelineEntry[];
  dropped: number;
}

/**
 * The app's memory of every issue's way from label to merge, in bounded size: the least recently
 * active issue is forgotten first, and an issue keeps its newest timeline entries.
 */
export class IssueRecords {
  readonly #issues = new Map<string, IssueRecord>();
  readonly #webBase: string;
  readonly #now: () => number;
  readonly #maxIssues: number;
  readonly #maxTimeline: number;

  constructor(options: { webBase: string; now: () => number; maxIssues: number; maxTimeline: number }) {
    this.#webBase = options.webBase.replace(/\/+$/, '');
    this.#now = options.now;
    this.#maxIssues = options.maxIssues;
    this.#maxTimeline = options.maxTimeline;
  }

  values(): IterableIterator<IssueRecord> {
    return this.#issues.values();
  }

  get(repo: string, issue: number): IssueRecord | undefined {
    return this.#issues.get(`${repo}#${issue}`);
  }

  /** The issue's record, made if new, and marked as the most recently active. */
  touch(ref: IssueRef): IssueRecord {
    const key = `${ref.repo}#${ref.issue}`;
    let record = this.#issues.get(key);
    if (record) {
      this.#issues.delete(key); // re-inserted last: the map's order is least recently active first
    } else {
      record = {
        repo: ref.repo, issue: ref.issue, title: '', failed: false, runs: 0, costUsd: 0, tokens: 0, stageSince: this.#now(), timeline: [], dropped: 0, stretchMs: 0,
      };
    }
    this.#issues.set(key, record);
    while (this.#issues.size > this.#maxIssues) this.#issues.delete(this.#issues.keys().next().value!);
    return record;
  }

  pull(r: IssueRecord, number: number, url?: string): PullRecord {
    if (r.pull?.number !== number) {
      r.pull = {
        number, url: url ?? `${this.#webBase}/${r.repo}/pull/${number}`, base: '', verdicts: new Map(), reviewIds: new Set(),
        rounds: 0, changeRequests: 0, closed: false, replacedHeads: [],
      };
    } else if (url) {
      r.pull.url = url;
    }
    return r.pull;
  }

  note(r: IssueRecord, at: number, what: string, detail: string): void {
    const last = r.timeline.at(-1);
    if (what === 'step' && last?.what === 'step' && last.detail === detail) {
      last.count++;
      return;
    }
    r.timeline.push({ at, what, detail, count: 1 });
    if (r.timeline.length > this.#maxTimeline) {
      r.timeline.shift();
      r.dropped++;
    }
  }

  restage(r: IssueRecord, at: number): void {
    const stage = stageOf(r);
    if (stage !== r.stage) r.stageSince = at;
    if (stage) r.stage = stage;
    else delete r.stage;
  }

  /**
   * Moves the issue's life to the phase its record is now in; the life, when this move ended it by
   * a merge. A pause that begins with `pauseAs` counts as that phase if the life goes on.
   */
  advance(r: IssueRecord, at: number, pauseAs?: Phase): IssueLife | undefined {
    const merged = r.pull?.mergedAt !== undefined;
    const wasMerged = r.life?.mergedAt !== undefined;
    const next = merged ? undefined : phaseOf(r);
    const startAt = r.pull?.openedAt !== undefined && next === 'person' ? { startAt: r.pull.openedAt } : {};
    r.life = moveLife(r.life, next, at, { merged, ...startAt, ...(pauseAs ? { pauseAs } : {}) });
    return r.life && !wasMerged && r.life.mergedAt !== undefined ? r.life : undefined;
  }

  /** What the board shows of a record. */
  summary(r: IssueRecord): IssueSummary {
    const pull = r.pull && (!r.pull.closed || r.pull.mergedAt !== undefined) ? r.pull : undefined;
    const reason = r.stage === 'flagged' && pull?.conflict
      ? `Conflicts with ${pull.conflict.with}: ${pull.conflict.files.join(', ')}`
      : (r.stage === 'failed' || r.stage === 'ended') && r.ended ? `${r.ended.outcome}${r.ended.reason ? `: ${r.ended.reason}` : ''}`
        : r.stage === 'queued' ? r.held : undefined;
    return {
      repo: r.repo,
      issue: r.issue,
      title: r.title || `Issue #${r.issue}`,
      url: `${this.#webBase}/${r.repo}/issues/${r.issue}`,
      stage: r.stage ?? 'ended',
      since: r.stageSince,
      ...(pull ? { pull: { number: pull.number, url: pull.url, base: pull.base } } : {}),
      ...(reason ? { reason: clip(reason, 500) } : {}),
      runs: r.runs,
      revisionRounds: r.pull ? Math.max(r.pull.rounds, r.pull.changeRequests) : 0,
      costUsd: r.costUsd,
      tokens: r.tokens,
    };
  }
}

/** The open PR of the issue: not merged, not closed. */
export function openPull(r: IssueRecord): PullRecord | undefined {
  return r.pull && !r.pull.closed && r.pull.mergedAt === undefined ? r.pull : undefined;
}

/** The phase the issue is in now (issue-life.ts); undefined while nothing is under way. */
function phaseOf(r: IssueRecord): Phase | undefined {
  if (r.runningWork) return r.runningWork === 'map' ? 'agent' : 'revising';
  if (r.queuedWork) return r.queuedWork === 'map' ? 'queued' : 'revising';
  const pull = openPull(r);
  if (pull) return pull.checks?.state === 'pending' ? 'ci' : 'person';
  return r.held !== undefined ? 'queued' : undefined;
}

function stageOf(r: IssueRecord): Stage | undefined {
  if (r.live) return r.live;
  if (r.held !== undefined && !openPull(r)) return 'queued';
  const pull = r.pull;
  if (pull?.mergedAt !== undefined) return 'merged';
  if (pull && !pull.closed) {
    if (pull.conflict) return 'flagged';
    const verdicts = [...pull.verdicts.values()];
    if (verdicts.includes('changes_requested')) return 'changes-requested';
    if (verdicts.includes('approved')) return 'approved';
    return 'pr-open';
  }
  if (r.failed) return 'failed';
  if (r.ended) return 'ended';
  return undefined;
}

