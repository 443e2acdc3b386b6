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
}

export interface IssueRecord extends IssueRef {
  title: string;
  live?: 'queued' | 'running';
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
        repo: ref.repo, issue: ref.issue, title: '', failed: false, runs: 0, costUsd: 0, tokens: 0, stageSince: this.#now(), timeline: [], dropped: 0,
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
        rounds: 0, changeRequests: 0, closed: false,
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

  /** What the board shows of a record. */
  summary(r: IssueRecord): IssueSummary {
    const pull = r.pull && (!r.pull.closed || r.pull.mergedAt !== undefined) ? r.pull : undefined;
    const reason = r.stage === 'flagged' && pull?.conflict
      ? `Conflicts with ${pull.conflict.with}: ${pull.conflict.files.join(', ')}`
      : (r.stage === 'failed' || r.stage === 'ended') && r.ended ? `${r.ended.outcome}${r.ended.reason ? `: ${r.ended.reason}` : ''}` : undefined;
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

function stageOf(r: IssueRecord): Stage | undefined {
  if (r.live) return r.live;
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

