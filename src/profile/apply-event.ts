import type { AgentUsage } from '../agents/agent.js';
import type { IssueRecord, IssueRecords } from './issue-records.js';
import type { ProfileEvent, ReviewState } from './profile-event.js';
import type { ReviewWait } from './view.js';
import { clip } from '../text.js';

/** Outcomes of a map run that leave the issue without a PR, shown as `ended`. */
const ENDED_WITHOUT_PR = new Set(['no-change', 'not-actionable', 'cancelled', 'planned']);

/**
 * What an event adds to the profile's series besides the issue's record: the Prometheus
 * observations (made only for events of this process's lifetime) and the dashboard's charts.
 */
export type Observation =
  | { kind: 'load' }
  | { kind: 'queue-wait'; work: string; seconds: number }
  | { kind: 'run'; work: string; outcome: string; seconds?: number }
  | { kind: 'usage'; repository: string; usage: AgentUsage }
  | { kind: 'review-wait'; wait: ReviewWait }
  | { kind: 'revision-turnaround'; seconds: number }
  | { kind: 'conflict'; repository: string }
  | { kind: 'merge'; repository: string; rounds: number; waitSeconds?: number };

/**
 * Applies one event to the issue's record (its stage, pull, verdicts and timeline) and says what
 * else it adds. Nothing here touches a metric: that is the caller's, from the observations.
 */
export function applyEvent(records: IssueRecords, event: ProfileEvent, at: number): Observation[] {
  const r = records.touch(event);
  const out: Observation[] = [];
  if (isPullEvent(event)) applyPullEvent(records, r, event, at, out);
  else applyRunEvent(records, r, event, at, out);
  records.restage(r, at);
  return out;
}

type PullEvent = Extract<ProfileEvent, { type: 'pull' | 'review' | 'revised' | 'conflict' | 'conflict-cleared' | 'merged' | 'closed' }>;
type RunEvent = Exclude<ProfileEvent, PullEvent>;

function isPullEvent(event: ProfileEvent): event is PullEvent {
  return ['pull', 'review', 'revised', 'conflict', 'conflict-cleared', 'merged', 'closed'].includes(event.type);
}

/** A job's life: seen, queued, started, its steps and usage, how it ended. */
function applyRunEvent(records: IssueRecords, r: IssueRecord, event: RunEvent, at: number, out: Observation[]): void {
  switch (event.type) {
    case 'seen':
      r.title = event.title;
      if (event.failed !== undefined) r.failed = event.failed;
      break;
    case 'queued':
      r.live = 'queued';
      r.queuedAt = at;
      records.note(r, at, 'queued', `${event.work} run`);
      out.push({ kind: 'load' });
      break;
    case 'dequeued':
      delete r.live;
      records.note(r, at, 'dequeued', `${event.work} run taken out of the queue`);
      out.push({ kind: 'load' });
      break;
    case 'started':
      r.live = 'running';
      r.startedAt = at;
      r.runs++;
      delete r.outcome;
      if (r.queuedAt !== undefined) out.push({ kind: 'queue-wait', work: event.work, seconds: seconds(at - r.queuedAt) });
      delete r.queuedAt;
      records.note(r, at, 'started', `${event.work} run`);
      out.push({ kind: 'load' });
      break;
    case 'finished': {
      out.push({ kind: 'run', work: event.work, outcome: r.outcome ?? 'done', ...(r.startedAt !== undefined ? { seconds: seconds(at - r.startedAt) } : {}) });
      if (!r.outcome) records.note(r, at, 'ended', `${event.work} run ended`);
      delete r.live;
      delete r.startedAt;
      delete r.outcome;
      out.push({ kind: 'load' });
      break;
    }
    case 'step':
      return records.note(r, at, 'step', event.tool);
    case 'agent-used': {
      const { usage } = event;
      out.push({ kind: 'usage', repository: event.repo, usage });
      r.costUsd += usage.costUsd;
      r.tokens += usage.inputTokens + usage.outputTokens;
      records.note(r, at, 'used', `${usage.turns} turns, ${usage.inputTokens + usage.outputTokens} tokens, $${usage.costUsd.toFixed(4)}`);
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
      records.note(r, at, 'ended', `${event.work} run: ${event.outcome}${event.reason ? ` (${clip(event.reason, 300)})` : ''}`);
      break;
  }
}

/** The PR's life: opened, reviewed, revised, in conflict or not, merged or closed. */
function applyPullEvent(records: IssueRecords, r: IssueRecord, event: PullEvent, at: number, out: Observation[]): void {
  switch (event.type) {
    case 'pull': {
      const known = r.pull?.number === event.pr;
      const pull = records.pull(r, event.pr, event.url);
      pull.base = event.base;
      pull.closed = false;
      if (event.openedAt !== undefined) pull.openedAt ??= event.openedAt;
      if (event.opened) {
        pull.openedAt ??= at;
        records.note(r, at, 'pr-opened', `#${event.pr}`);
      } else if (!known) {
        records.note(r, pull.openedAt ?? at, 'pr-opened', `#${event.pr}`);
      }
      break;
    }
    case 'review':
      return review(records, r, at, event, out);
    case 'revised': {
      const pull = records.pull(r, event.pr);
      pull.rounds++;
      if (pull.changesRequestedAt !== undefined) out.push({ kind: 'revision-turnaround', seconds: seconds(at - pull.changesRequestedAt) });
      delete pull.changesRequestedAt;
      delete pull.approvedAt;
      pull.verdicts.clear();
      records.note(r, at, 'revised', `new commit ${event.sha.slice(0, 7)} on #${event.pr}`);
      break;
    }
    case 'conflict': {
      const pull = records.pull(r, event.pr);
      if (event.fresh) out.push({ kind: 'conflict', repository: event.repo });
      if (!pull.conflict) records.note(r, at, 'conflict', `#${event.pr} conflicts with ${event.with}: ${event.files.join(', ')}`);
      pull.conflict = { files: event.files, with: event.with };
      break;
    }
    case 'conflict-cleared': {
      const pull = records.pull(r, event.pr);
      if (pull.conflict) records.note(r, at, 'conflict-cleared', `#${event.pr} no longer conflicts`);
      delete pull.conflict;
      break;
    }
    case 'merged': {
      const pull = records.pull(r, event.pr);
      if (pull.mergedAt !== undefined) break;
      pull.mergedAt = at;
      out.push({
        kind: 'merge', repository: event.repo, rounds: Math.max(pull.rounds, pull.changeRequests),
        ...(pull.approvedAt !== undefined ? { waitSeconds: seconds(at - pull.approvedAt) } : {}),
      });
      records.note(r, at, 'merged', `#${event.pr}`);
      break;
    }
    case 'closed': {
      const pull = records.pull(r, event.pr);
      if (pull.mergedAt === undefined && !pull.closed) records.note(r, at, 'closed', `#${event.pr} closed without merging`);
      pull.closed = true;
      break;
    }
  }
}

function review(records: IssueRecords, r: IssueRecord, at: number, event: { pr: number; id: number; author: string; state: ReviewState }, out: Observation[]): void {
  if (event.author.endsWith('[bot]')) return;
  const pull = records.pull(r, event.pr);
  if (pull.reviewIds.has(event.id)) return;
  pull.reviewIds.add(event.id);
  if (pull.firstReviewAt === undefined) {
    pull.firstReviewAt = at;
    if (pull.openedAt !== undefined) {
      out.push({ kind: 'review-wait', wait: { repo: r.repo, pr: pull.number, url: pull.url, waitMs: at - pull.openedAt, at, waiting: false } });
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
  records.note(r, at, 'review', `${event.state.replace('_', ' ')} by @${event.author} on #${event.pr}`);
}

/** A duration in ms as the metrics count it: seconds, never negative. */
export function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}

