import { issueOfKey } from '../jobs/job-key.js';
import { applyEvent } from './apply-event.js';
import { BUSY_WINDOW_MS, busyShare, personShare } from './headline.js';
import { PHASES, spansUntil, type IssueLife } from './issue-life.js';
import { IssueRecords } from './issue-records.js';
import { createMetrics, type Metrics } from './metrics.js';
import { seconds, type Observation } from './observation.js';
import type { ProfileEvent, ProfileRecorder, ReducePassRecord } from './profile-event.js';
import { groupForReview, readyPullOf } from './ready-for-review.js';
import type { BusySample, DashboardView, IssueLifeView, IssueSummary, MergeOrderView, ReadyGroup, ReviewWait, RunRecordView } from './view.js';

/** One thing a process of a fleet recorded, as its other processes take it (plain data). */
export type SharedRecord = { event: ProfileEvent & { at: number } } | { pass: ReducePassRecord & { at: number } };

/** What the profile reads of the job queue; the scheduler is one. */
export interface ProfileLoad {
  /** Jobs holding a slot: their agents are at work (a job that only publishes has given its slot back). */
  slotKeys(): string[];
  queuedKeys(): string[];
  readonly globalCap: number;
}

/** Where the profile hears of jobs being queued, started and finished; the scheduler is one. */
export interface JobEvents {
  onEvent(listener: (event: { kind: 'queued' | 'dequeued' | 'started' | 'finished'; key: string; work: 'map' | 'revision' | 'rebase' }) => void): void;
}

export interface ProfileOptions {
  load: ProfileLoad;
  /** Notifying GitHub writes waiting in the write budgets (none when not given). */
  writesWaiting?: () => number;
  /** GitHub's web address (`https://github.com`, or the Enterprise Server's): the board links to it. */
  webBase: string;
  now?: () => number;
  /** How many issues are remembered; the least recently active are forgotten first. */
  maxIssues?: number;
  /** How many timeline entries one issue keeps; the oldest are dropped first. */
  maxTimeline?: number;
  /** Labels on every series: in a fleet, which process (`worker`) the scrape came from. */
  labels?: Record<string, string>;
}

const MAX_BUSY_SAMPLES = 5000;
const MAX_REVIEW_WAITS = 200;
const MAX_COST_DAYS = 90;

/**
 * Where the time goes (DESIGN §8): the issues' records (issue-records.ts), changed by events
 * (apply-event.ts), the Prometheus series observed from what the events add, and the dashboard's
 * view of both. Events from before this process started (rebuilt from GitHub by the reconcile and
 * reduce passes) fill the board and timelines but are not counted again in the metrics.
 */
export class Profile implements ProfileRecorder {
  readonly metrics: Metrics;
  readonly startedAt: number;
  readonly #load: ProfileLoad;
  readonly #writesWaiting: () => number;
  readonly #now: () => number;
  readonly #records: IssueRecords;
  readonly #busy: BusySample[] = [];
  readonly #reviewWaits: ReviewWait[] = [];
  readonly #costByDay = new Map<string, number>();
  readonly #orders = new Map<string, MergeOrderView>();
  readonly #stretches = { ms: 0, count: 0 };
  #share: ((item: SharedRecord) => void) | undefined;

  constructor(options: ProfileOptions) {
    this.#load = options.load;
    this.#writesWaiting = options.writesWaiting ?? (() => 0);
    this.#now = options.now ?? Date.now;
    this.#records = new IssueRecords({
      webBase: options.webBase, now: this.#now, maxIssues: options.maxIssues ?? 2000, maxTimeline: options.maxTimeline ?? 300,
    });
    this.startedAt = this.#now();
    const repoOf = (key: string) => issueOfKey(key).repo;
    this.metrics = createMetrics({
      running: () => this.#load.slotKeys().map(repoOf),
      queued: () => this.#load.queuedKeys().map(repoOf),
      slots: () => this.#load.globalCap,
      stages: () => {
        const counts = new Map<string, number>();
        for (const record of this.#records.values()) if (record.stage) counts.set(record.stage, (counts.get(record.stage) ?? 0) + 1);
        return counts;
      },
      writesWaiting: () => this.#writesWaiting(),
    }, options.labels);
  }

  /** Records every job's queueing, start and end. */
  follow(jobs: JobEvents): void {
    jobs.onEvent((event) => this.record({ ...issueOfKey(event.key), type: event.kind, work: event.work }));
  }

  record(event: ProfileEvent): void {
    const at = event.at ?? this.#now();
    const live = at >= this.startedAt;
    for (const observation of applyEvent(this.#records, event, at)) this.#observe(observation, at, live, true);
    this.#share?.({ event: { ...event, at } });
  }

  /**
   * What another process of the fleet recorded: the dashboard shows it, and only that process's
   * `/metrics` counts it (a scrape of the whole fleet would count it twice).
   */
  recordFromFleet(item: SharedRecord): void {
    if ('pass' in item) return this.#showOrder(item.pass, item.pass.at);
    const { event } = item;
    for (const observation of applyEvent(this.#records, event, event.at)) this.#observe(observation, event.at, event.at >= this.startedAt, false);
  }

  /** From now on everything recorded here is also handed to `share`, for the fleet's other processes. */
  shareWith(share: (item: SharedRecord) => void): void {
    this.#share = share;
  }

  reducePass(pass: ReducePassRecord): void {
    const repository = pass.repo;
    this.metrics.reducePasses.inc({ repository, result: pass.failed ? 'error' : 'ok' });
    this.metrics.reducePassDuration.observe(seconds(pass.durationMs));
    this.#showOrder(pass, this.#now());
    this.#share?.({ pass: { ...pass, at: this.#now() } });
  }

  #showOrder(pass: ReducePassRecord, at: number): void {
    if (pass.failed) return;
    const done = new Set([...pass.merged, ...pass.flagged]);
    this.#orders.set(`${pass.repo}:${pass.base}`, {
      repo: pass.repo,
      base: pass.base,
      at,
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

  githubWrite(write: { kind: string; waitedMs: number }): void {
    this.metrics.githubWrites.inc({ kind: write.kind });
    if (write.waitedMs > 0) this.metrics.githubWriteWaits.inc({ kind: write.kind });
  }

  modelRequest(status: number): void {
    this.metrics.modelRequests.inc({ status: String(status) });
    if (status === 0 || status >= 400) this.metrics.modelErrors.inc({ status: String(status) });
  }

  view(): DashboardView {
    const now = this.#now();
    const issues = [...this.#records.values()].filter((r) => r.stage).map((r) => this.#records.summary(r));
    const waiting: ReviewWait[] = [];
    for (const r of this.#records.values()) {
      const pull = r.pull;
      if (!pull || pull.closed || pull.mergedAt !== undefined || pull.firstReviewAt !== undefined || pull.openedAt === undefined) continue;
      waiting.push({ repo: r.repo, pr: pull.number, url: pull.url, waitMs: now - pull.openedAt, at: now, waiting: true });
    }
    const busy = [...this.#busy];
    return {
      now,
      startedAt: this.startedAt,
      slots: this.#load.globalCap,
      running: this.#load.slotKeys().length,
      queued: this.#load.queuedKeys().length,
      writesWaiting: this.#writesWaiting(),
      issues,
      orders: [...this.#orders.values()],
      busy,
      reviewWaits: [...this.#reviewWaits, ...waiting],
      costByDay: [...this.#costByDay].sort(([a], [b]) => a.localeCompare(b)).map(([day, usd]) => ({ day, usd })),
      headline: {
        ...optional('personShare', personShare([...this.#records.values()].flatMap((r) => r.life ?? []))),
        ...optional('meanStretchMs', this.#stretches.count > 0 ? this.#stretches.ms / this.#stretches.count : undefined),
        ...optional('busyShare', busyShare(busy, this.#load.globalCap, now, BUSY_WINDOW_MS)),
        // the Ready for review page lists exactly the PRs of this stage (ready-for-review.ts)
        ready: issues.filter((i) => i.stage === 'pr-open').length,
      },
    };
  }

  /** Every remembered issue's life from label to merge (or to now, or to its pause), the latest started first. */
  lives(now = this.#now()): IssueLifeView[] {
    const lives: IssueLifeView[] = [];
    for (const r of this.#records.values()) {
      if (r.life) lives.push(lifeView(r.life, this.#records.summary(r), now));
    }
    return lives.sort((a, b) => b.start - a.start);
  }

  /** The PRs whose next step is a person's review, grouped by the area they touch. */
  ready(): ReadyGroup[] {
    return groupForReview([...this.#records.values()].flatMap((r) => readyPullOf(r, this.#records.summary(r)) ?? []));
  }

  /** One issue's record with its timeline; undefined when it is not (or no longer) remembered. */
  run(repo: string, issue: number): RunRecordView | undefined {
    const r = this.#records.get(repo, issue);
    if (!r) return undefined;
    return { ...this.#records.summary(r), stage: r.stage ?? 'ended', timeline: r.timeline.map((e) => ({ ...e })), dropped: r.dropped };
  }

  /** The charts always take what an event adds; the metrics only what happened in this process's lifetime. */
  #observe(o: Observation, at: number, live: boolean, counted: boolean): void {
    if (o.kind === 'lead' || o.kind === 'stretch') return this.#observeBandwidth(o, live, counted);
    // another process's event: its own /metrics count it
    const m = counted ? this.metrics : undefined;
    switch (o.kind) {
      case 'load':
        if (counted) this.#sampleLoad(at); // this process's load
        break;
      case 'queue-wait':
        m?.queueWait.observe({ work: o.work }, o.seconds);
        break;
      case 'run':
        m?.runs.inc({ work: o.work, outcome: o.outcome });
        if (o.seconds !== undefined) m?.runDuration.observe({ work: o.work, outcome: o.outcome }, o.seconds);
        break;
      case 'usage':
        m?.tokens.inc({ repository: o.repository, kind: 'input' }, o.usage.inputTokens);
        m?.tokens.inc({ repository: o.repository, kind: 'output' }, o.usage.outputTokens);
        m?.tokens.inc({ repository: o.repository, kind: 'cache_read' }, o.usage.cacheReadTokens);
        m?.cost.inc({ repository: o.repository }, o.usage.costUsd);
        this.#addCost(at, o.usage.costUsd);
        break;
      case 'review-wait':
        if (live) m?.reviewWait.observe(seconds(o.wait.waitMs));
        this.#reviewWaits.push(o.wait);
        if (this.#reviewWaits.length > MAX_REVIEW_WAITS) this.#reviewWaits.shift();
        break;
      case 'revision-turnaround':
        if (live) m?.revisionTurnaround.observe(o.seconds);
        break;
      case 'conflict':
        if (live) m?.conflicts.inc({ repository: o.repository });
        break;
      case 'merge':
        if (!live) break;
        m?.merges.inc({ repository: o.repository });
        m?.revisionRounds.observe(o.rounds);
        if (o.waitSeconds !== undefined) m?.mergeWait.observe(o.waitSeconds);
        break;
    }
  }

  /** A life is counted only when this process saw all of it: one rebuilt after a restart lacks its start. */
  #observeBandwidth(o: Extract<Observation, { kind: 'lead' | 'stretch' }>, live: boolean, counted: boolean): void {
    if (!live) return;
    if (o.kind === 'stretch') {
      this.#stretches.ms += o.ms;
      this.#stretches.count++;
    } else if (counted && o.life.start >= this.startedAt) {
      for (const phase of PHASES) this.metrics.issuePhase.observe({ phase }, seconds(o.life.totals[phase]));
    }
  }

  #sampleLoad(at: number): void {
    this.#busy.push({ at, running: this.#load.slotKeys().length, queued: this.#load.queuedKeys().length });
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
}

function lifeView(life: IssueLife, issue: IssueSummary, now: number): IssueLifeView {
  const { spans, end } = spansUntil(life, now);
  const state = life.mergedAt !== undefined ? 'merged' : life.pausedAt !== undefined ? 'paused' : 'under-way';
  return { repo: issue.repo, issue: issue.issue, title: issue.title, url: issue.url, start: life.start, end, state, spans, dropped: life.dropped };
}

/** `{ [key]: value }`, or nothing when the value is undefined (the view's optional fields stay absent under exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
