import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'agent_mapreduce_';

const MINUTE = 60;
const HOUR = 3600;
/** From 10 seconds to 2 days: agent runs take minutes, humans take hours. */
const WAIT_BUCKETS = [10, 30, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 24 * HOUR, 48 * HOUR];

/** What the gauges read when /metrics is scraped. */
export interface StateReader {
  /** `owner/name` of each running and each queued job. */
  running(): string[];
  queued(): string[];
  slots(): number;
  /** How many issues the profile knows in each stage of the board. */
  stages(): Map<string, number>;
  /** Notifying GitHub writes waiting for room in the installations' write budgets. */
  writesWaiting(): number;
}

/**
 * Every series the app exposes at /metrics, in one registry of its own (never the global one, so
 * that two apps in one process, as in tests, do not collide).
 */
export function createMetrics(load: StateReader, labels: Record<string, string> = {}) {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  const name = (n: string) => `${METRIC_PREFIX}${n}`;
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  const byRepository = (repos: string[]) => {
    const counts = new Map<string, number>();
    for (const repo of repos) counts.set(repo, (counts.get(repo) ?? 0) + 1);
    return counts;
  };
  const loadGauge = (metric: string, help: string, read: () => string[]) => new Gauge({
    name: name(metric), help, labelNames: ['repository'], registers,
    collect() {
      this.reset();
      for (const [repository, count] of byRepository(read())) this.set({ repository }, count);
    },
  });

  return {
    registry,
    agentsRunning: loadGauge('agents_running', 'Agent runs in progress, per repository.', () => load.running()),
    agentsQueued: loadGauge('agents_queued', 'Agent runs waiting for a free slot, per repository.', () => load.queued()),
    agentSlots: new Gauge({
      name: name('agent_slots'), help: 'How many agents may run at once in this process.', registers,
      collect() {
        this.set(load.slots());
      },
    }),
    issues: new Gauge({
      name: name('issues'), help: 'Issues by stage: queued, running, pr-open, changes-requested, approved, merged, flagged, failed, ended.',
      labelNames: ['stage'], registers,
      collect() {
        this.reset();
        for (const [stage, count] of load.stages()) this.set({ stage }, count);
      },
    }),
    queueWait: new Histogram({
      name: name('queue_wait_seconds'), help: 'Time from a run being queued to its start.', labelNames: ['work'], buckets: WAIT_BUCKETS, registers,
    }),
    runs: new Counter({ name: name('runs_total'), help: 'Agent runs that ended, by kind of work and outcome.', labelNames: ['work', 'outcome'], registers }),
    runDuration: new Histogram({
      name: name('run_duration_seconds'), help: 'Time from a run’s start to its end, by kind of work and outcome.',
      labelNames: ['work', 'outcome'], buckets: WAIT_BUCKETS, registers,
    }),
    tokens: new Counter({
      name: name('tokens_total'), help: 'Model tokens used by agent runs (input includes cache reads).', labelNames: ['repository', 'kind'], registers,
    }),
    cost: new Counter({ name: name('cost_usd_total'), help: 'Model cost of agent runs, in US dollars.', labelNames: ['repository'], registers }),
    reviewWait: new Histogram({
      name: name('review_wait_seconds'), help: 'Time from an agent PR being opened to its first review.', buckets: WAIT_BUCKETS, registers,
    }),
    revisionTurnaround: new Histogram({
      name: name('revision_turnaround_seconds'), help: 'Time from a review requesting changes to the agent’s new commit.',
      buckets: WAIT_BUCKETS, registers,
    }),
    revisionRounds: new Histogram({
      name: name('revision_rounds'), help: 'Revision rounds an agent PR needed, observed when it merges.', buckets: [0, 1, 2, 3, 5, 8], registers,
    }),
    mergeWait: new Histogram({
      name: name('merge_wait_seconds'), help: 'Time from an agent PR’s approval to its merge.', buckets: WAIT_BUCKETS, registers,
    }),
    ...bandwidthMetrics(registers),
    merges: new Counter({ name: name('merges_total'), help: 'Agent PRs merged.', labelNames: ['repository'], registers }),
    conflicts: new Counter({
      name: name('conflicts_total'), help: 'Agent PRs newly flagged as conflicting by a reduce pass.', labelNames: ['repository'], registers,
    }),
    reducePasses: new Counter({
      name: name('reduce_passes_total'), help: 'Reduce passes run, by result (ok or error).', labelNames: ['repository', 'result'], registers,
    }),
    reducePassDuration: new Histogram({
      name: name('reduce_pass_duration_seconds'), help: 'How long one reduce pass took.', buckets: [0.1, 0.5, 1, 5, 15, 60, 300], registers,
    }),
    githubRequests: new Counter({
      name: name('github_requests_total'), help: 'GitHub API requests, by route and status (0: no answer).', labelNames: ['route', 'status'], registers,
    }),
    githubErrors: new Counter({
      name: name('github_request_errors_total'), help: 'GitHub API requests that failed (status 400 or more, or no answer).',
      labelNames: ['route', 'status'], registers,
    }),
    githubWritesWaiting: new Gauge({
      name: name('github_writes_waiting'), help: 'Notifying GitHub writes (comments, PRs, merges) waiting for room in the write budget.', registers,
      collect() {
        this.set(load.writesWaiting());
      },
    }),
    githubWrites: new Counter({
      name: name('github_notifying_writes_total'), help: 'Notifying GitHub writes sent, by kind (merge, pull, review, comment, issue).',
      labelNames: ['kind'], registers,
    }),
    githubWriteWaits: new Counter({
      name: name('github_write_waits_total'), help: 'Notifying GitHub writes that had to wait for the write budget.', labelNames: ['kind'], registers,
    }),
    modelRequests: new Counter({
      name: name('model_requests_total'), help: 'Model API requests, by status (0: no answer).', labelNames: ['status'], registers,
    }),
    modelErrors: new Counter({
      name: name('model_request_errors_total'), help: 'Model API requests that failed (status 400 or more, or no answer).',
      labelNames: ['status'], registers,
    }),
  };
}

/** Where the people's and the agents' time goes, issue by issue. */
function bandwidthMetrics(registers: Registry[]) {
  return {
    // A histogram, observed for every phase (zeros included) once per issue when its PR merges: each
    // phase's _count is the merges, the five _sum series add up to the merged issues' lead time (so
    // rate(_sum{phase="person"}) over the sum of all five is the share spent waiting for people), the
    // buckets give each phase's spread (how long the slowest first reviews take), and unlike a
    // summary it adds up across restarts and replicas.
    issuePhase: new Histogram({
      name: `${METRIC_PREFIX}issue_phase_seconds`,
      help: 'Time a merged issue spent in each phase from label to merge: queued, agent (map run), person (waiting for a review or approval), ' +
        'revising (revision or rebase run), ci (required checks pending). Observed once per phase when the PR merges.',
      labelNames: ['phase'], buckets: [0, ...WAIT_BUCKETS, 7 * 24 * HOUR], registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
