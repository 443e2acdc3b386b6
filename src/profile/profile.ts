import { issueOfKey } from '../map/map-service.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { IssueRef, ProfileEvent, ProfileRecorder, ReducePassRecord, ReviewState } from './profile-event.js';
import type {
  BusySample, DashboardView, IssueSummary, MergeOrderView, ReviewWait, RunRecordView, Stage, TimelineEntry,
} from './view.js';

export interface ProfileOptions {
  scheduler: Scheduler;
  /** GitHub's web address (`https://github.com`, or the Enterprise Server's): the board links to it. */
  webBase: string;
  now?: () => number;
  /** How many issues are remembered; the least recently active are forgotten first. */
  maxIssues?: number;
  /** How many timeline entries one issue keeps; the oldest are dropped first. */
  maxTimeline?: number;
}

interface PullRecord {
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

interface IssueRecord extends IssueRef {
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

const MAX_BUSY_SAMPLES = 5000;
const MAX_REVIEW_WAITS = 200;
const MAX_COST_DAYS = 90;
/** Outcomes of a map run that leave the issue without a PR, shown as `ended`. */
const ENDED_WITHOUT_PR = new Set(['no-change', 'not-actionable', 'cancelled', 'planned']);

/**
 * Where the time goes (DESIGN §8): the app's memory of every issue's way from label to merge, in
 * bounded size, and the Prometheus series computed from it. Events from before this process
 * started (rebuilt from GitHub by the reconcile and reduce passes) fill the board and timelines
 * but are not counted again in the metrics.
 */
export class Profile implements ProfileRecorder {
  readonly metrics: Metrics;
  readonly startedAt: number;
  readonly #scheduler: Scheduler;
  readonly #webBase: string;
  readonly #now: () => number;
  readonly #maxIssues: number;
  readonly #maxTimeline: number;
  readonly #issues = new Map<string, IssueRecord>();
  readonly #busy: BusySample[] = [];
  readonly #reviewWaits: ReviewWait[] = [];
  readonly #costByDay = new Map<string, number>();
  readonly #orders = new Map<string, MergeOrderView>();

  constructor(options: ProfileOptions) {
    this.#scheduler = options.scheduler;
    this.#webBase = options.webBase.replace(/\/+$/, '');
    this.#now = options.now ?? Date.now;
    this.#maxIssues = options.maxIssues ?? 2000;
    this.#maxTimeline = options.maxTimeline ?? 300;
    this.startedAt = this.#now();
    const repoOf = (key: string) => issueOfKey(key).repo;
    this.metrics = createMetrics({
      running: () => this.#scheduler.runningKeys().map(repoOf),
      queued: () => this.#scheduler.queuedKeys().map(repoOf),
      slots: () => this.#scheduler.globalCap,
      stages: () => {
        const counts = new Map<string, number>();
        for (const record of this.#issues.values()) if (record.stage) counts.set(record.stage, (counts.get(record.stage) ?? 0) + 1);
        return counts;
      },
    });
    this.#scheduler.onEvent((event) => this.record({ ...issueOfKey(event.key), type: event.kind, work: event.work }));
  }

  record(event: ProfileEvent): void {
    const at = event.at ?? this.#now();
    const live = at >= this.startedAt;
    const r = this.#touch(event);
    const m = this.metrics;
    switch (event.type) {
      case 'seen':
        r.title = event.title;
        if (event.failed !== undefined) r.failed = event.failed;
        break;
      case 'queued':
        r.live = 'queued';
        r.queuedAt = at;
        this.#note(r, at, 'queued', `${event.work} run`);
        this.#sampleLoad(at);
        break;
      case 'dequeued':
        delete r.live;
        this.#note(r, at, 'dequeued', `${event.work} run taken out of the queue`);
        this.#sampleLoad(at);
        break;
      case 'started':
        r.live = 'running';
        r.startedAt = at;
        r.runs++;
        delete r.outcome;
        if (r.queuedAt !== undefined) m.queueWait.observe({ work: event.work }, seconds(at - r.queuedAt));
        delete r.queuedAt;
        this.#note(r, at, 'started', `${event.work} run`);
        this.#sampleLoad(at);
        break;
      case 'finished': {
        const outcome = r.outcome ?? 'done';
        m.runs.inc({ work: event.work, outcome });
        if (r.startedAt !== undefined) m.runDuration.observe({ work: event.work, outcome }, seconds(at - r.startedAt));
        if (!r.outcome) this.#note(r, at, 'ended', `${event.work} run ended`);
        delete r.live;
        delete r.startedAt;
        delete r.outcome;
        this.#sampleLoad(at);
        break;
      }
      case 'step':
        this.#note(r, at, 'step', event.tool);
        break;
      case 'agent-used': {
        const { usage } = event;
        const repository = event.repo;
        m.tokens.inc({ repository, kind: 'input' }, usage.inputTokens);
        m.tokens.inc({ repository, kind: 'output' }, usage.outputTokens);
        m.tokens.inc({ repository, kind: 'cache_read' }, usage.cacheReadTokens);
        m.cost.inc({ repository }, usage.costUsd);
        r.costUsd += usage.costUsd;
        r.tokens += usage.inputTokens + usage.outputTokens;
        this.#addCost(at, usage.costUsd);
        this.#note(r, at, 'used', `${usage.turns} turns, ${usage.inputTokens + usage.outputTokens} tokens, $${usage.costUsd.toFixed(4)}`);
        break;
      }
      case 'ended':
        r.outcome = event.outcome;
        if (event.work === 'map') {
          r.failed = event.outcome === 'failed';
          if (event.outcome === 'failed' || ENDED_WITHOUT_PR.has(event.outcome)) {
            r.ended = { outcome: event.outcome, ...(event.reason ? { reason: event.reason } : {}) };
          } else if (event.outcome !== 'skipped') {
            delete r.ended;
          }
        }
        this.#note(r, at, 'ended', `${event.work} run: ${event.outcome}${event.reason ? ` (${clip(event.reason, 300)})` : ''}`);
        break;
      case 'pull': {
        const known = r.pull?.number === event.pr;
        const pull = this.#pull(r, event.pr, event.url);
        pull.base = event.base;
        pull.closed = false;
        if (event.openedAt !== undefined) pull.openedAt ??= event.openedAt;
        if (event.opened) {
          pull.openedAt ??= at;
          this.#note(r, at, 'pr-opened', `#${event.pr}`);
        } else if (!known) {
          this.#note(r, pull.openedAt ?? at, 'pr-opened', `#${event.pr}`);
        }
        break;
      }
      case 'review':
        this.#review(r, at, live, event);
        break;
      case 'revised': {
        const pull = this.#pull(r, event.pr);
        pull.rounds++;
        if (pull.changesRequestedAt !== undefined && live) m.revisionTurnaround.observe(seconds(at - pull.changesRequestedAt));
        delete pull.changesRequestedAt;
        delete pull.approvedAt;
        pull.verdicts.clear();
        this.#note(r, at, 'revised', `new commit ${event.sha.slice(0, 7)} on #${event.pr}`);
        break;
      }
      case 'conflict': {
        const pull = this.#pull(r, event.pr);
        if (event.fresh && live) m.conflicts.inc({ repository: event.repo });
        if (!pull.conflict) this.#note(r, at, 'conflict', `#${event.pr} conflicts with ${event.with}: ${event.files.join(', ')}`);
        pull.conflict = { files: event.files, with: event.with };
        break;
      }
      case 'conflict-cleared': {
        const pull = this.#pull(r, event.pr);
        if (pull.conflict) this.#note(r, at, 'conflict-cleared', `#${event.pr} no longer conflicts`);
        delete pull.conflict;
        break;
      }
      case 'merged': {
        const pull = this.#pull(r, event.pr);
        if (pull.mergedAt !== undefined) break;
        pull.mergedAt = at;
        if (live) {
          m.merges.inc({ repository: event.repo });
          m.revisionRounds.observe(Math.max(pull.rounds, pull.changeRequests));
          if (pull.approvedAt !== undefined) m.mergeWait.observe(seconds(at - pull.approvedAt));
        }
        this.#note(r, at, 'merged', `#${event.pr}`);
        break;
      }
      case 'closed': {
        const pull = this.#pull(r, event.pr);
        if (pull.mergedAt === undefined && !pull.closed) this.#note(r, at, 'closed', `#${event.pr} closed without merging`);
        pull.closed = true;
        break;
      }
    }
    this.#restage(r, at);
  }

  reducePass(pass: ReducePassRecord): void {
    const repository = pass.repo;
    this.metrics.reducePasses.inc({ repository, result: pass.failed ? 'error' : 'ok' });
    this.metrics.reducePassDuration.observe(seconds(pass.durationMs));
    if (pass.failed) return;
    const done = new Set([...pass.merged, ...pass.flagged]);
    this.#orders.set(`${pass.repo}:${pass.base}`, {
      repo: pass.repo,
      base: pass.base,
      at: this.#now(),
      order: pass.order.filter((n) => !done.has(n)),
      waiting: pass.waiting,
      flagged: pass.flagged,
    });
  }

  githubRequest(request: { route: string; status: number }): void {
    const labels = { route: request.route, status: String(request.status) };
    this.metrics.githubRequests.inc(labels);
    if (request.status === 0 || request.status >= 400) this.metrics.githubErrors.inc(labels);
  }

  modelRequest(status: number): void {
    this.metrics.modelRequests.inc({ status: String(status) });
    if (status === 0 || status >= 400) this.metrics.modelErrors.inc({ status: String(status) });
  }

  view(): DashboardView {
    const now = this.#now();
    const issues = [...this.#issues.values()].filter((r) => r.stage).map((r) => this.#summary(r));
    const waiting: ReviewWait[] = [];
    for (const r of this.#issues.values()) {
      const pull = r.pull;
      if (!pull || pull.closed || pull.mergedAt !== undefined || pull.firstReviewAt !== undefined || pull.openedAt === undefined) continue;
      waiting.push({ repo: r.repo, pr: pull.number, url: pull.url, waitMs: now - pull.openedAt, at: now, waiting: true });
    }
    return {
      now,
      startedAt: this.startedAt,
      slots: this.#scheduler.globalCap,
      running: this.#scheduler.runningKeys().length,
      queued: this.#scheduler.queuedKeys().length,
      issues,
      orders: [...this.#orders.values()],
      busy: [...this.#busy],
      reviewWaits: [...this.#reviewWaits, ...waiting],
      costByDay: [...this.#costByDay].sort(([a], [b]) => a.localeCompare(b)).map(([day, usd]) => ({ day, usd })),
    };
  }

  /** One issue's record with its timeline; undefined when it is not (or no longer) remembered. */
  run(repo: string, issue: number): RunRecordView | undefined {
    const r = this.#issues.get(`${repo}#${issue}`);
    if (!r) return undefined;
    return { ...this.#summary(r), stage: r.stage ?? 'ended', timeline: r.timeline.map((e) => ({ ...e })), dropped: r.dropped };
  }

  #review(r: IssueRecord, at: number, live: boolean, event: { pr: number; id: number; author: string; state: ReviewState }): void {
    if (event.author.endsWith('[bot]')) return;
    const pull = this.#pull(r, event.pr);
    if (pull.reviewIds.has(event.id)) return;
    pull.reviewIds.add(event.id);
    if (pull.firstReviewAt === undefined) {
      pull.firstReviewAt = at;
      if (pull.openedAt !== undefined) {
        if (live) this.metrics.reviewWait.observe(seconds(at - pull.openedAt));
        this.#reviewWaits.push({ repo: r.repo, pr: pull.number, url: pull.url, waitMs: at - pull.openedAt, at, waiting: false });
        if (this.#reviewWaits.length > MAX_REVIEW_WAITS) this.#reviewWaits.shift();
      }
    }
    if (event.state === 'approved') {
      pull.verdicts.set(event.author, 'approved');
      pull.approvedAt = at;
    } else if (event.state === 'changes_requested') {
      pull.verdicts.set(event.author, 'changes_requested');
      pull.changesRequestedAt ??= at;
      pull.changeRequests++;
    } else if (event.state === 'dismissed') {
      pull.verdicts.delete(event.author);
    }
    this.#note(r, at, 'review', `${event.state.replace('_', ' ')} by @${event.author} on #${event.pr}`);
  }

  #touch(ref: IssueRef): IssueRecord {
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

  #pull(r: IssueRecord, number: number, url?: string): PullRecord {
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

  #note(r: IssueRecord, at: number, what: string, detail: string): void {
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

  #restage(r: IssueRecord, at: number): void {
    const stage = stageOf(r);
    if (stage !== r.stage) r.stageSince = at;
    if (stage) r.stage = stage;
    else delete r.stage;
  }

  #sampleLoad(at: number): void {
    this.#busy.push({ at, running: this.#scheduler.runningKeys().length, queued: this.#scheduler.queuedKeys().length });
    if (this.#busy.length > MAX_BUSY_SAMPLES) this.#busy.shift();
  }

  #addCost(at: number, usd: number): void {
    const day = new Date(at).toISOString().slice(0, 10);
    this.#costByDay.set(day, (this.#costByDay.get(day) ?? 0) + usd);
    while (this.#costByDay.size > MAX_COST_DAYS) {
      const oldest = [...this.#costByDay.keys()].sort()[0]!;
      this.#costByDay.delete(oldest);
    }
  }

  #summary(r: IssueRecord): IssueSummary {
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

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
