import { applyPullEvent, endStretch, isPullEvent, type PullEvent } from './apply-pull-event.js';
import type { JobWork } from '../jobs/job-queue.js';
import type { IssueRecord, IssueRecords } from './issue-records.js';
import { seconds, type Observation } from './observation.js';
import type { ProfileEvent } from './profile-event.js';
import { clip } from '../text.js';

/** Outcomes of a map run that leave the issue without a PR, shown as `ended`. */
const ENDED_WITHOUT_PR = new Set(['no-change', 'not-actionable', 'cancelled', 'planned']);

/**
 * Applies one event to the issue's record (its stage, pull, verdicts, timeline and the phase of its
 * life) and says what else it adds. Nothing here touches a metric: that is the caller's, from the
 * observations.
 */
export function applyEvent(records: IssueRecords, event: ProfileEvent, at: number): Observation[] {
  const r = records.touch(event);
  const out: Observation[] = [];
  if (isPullEvent(event)) applyPullEvent(records, r, event, at, out);
  else applyRunEvent(records, r, event, at, out);
  records.restage(r, at);
  // a hold released just before its run is queued: the moment between is still the queue's
  const merged = records.advance(r, at, event.type === 'waiting' && !event.reason ? 'queued' : undefined);
  if (merged) out.push({ kind: 'lead', life: merged });
  return out;
}

type RunEvent = Exclude<ProfileEvent, PullEvent>;

/** A job's life: seen, held, queued, started, its steps and usage, how it ended. */
function applyRunEvent(records: IssueRecords, r: IssueRecord, event: RunEvent, at: number, out: Observation[]): void {
  switch (event.type) {
    case 'seen':
      r.title = event.title;
      if (event.failed !== undefined) r.failed = event.failed;
      break;
    case 'waiting':
      return held(records, r, event.reason, at);
    case 'queued':
      r.live = 'queued';
      r.queuedAt = at;
      r.queuedWork = event.work;
      records.note(r, at, 'queued', `${event.work} run`);
      out.push({ kind: 'load' });
      break;
    case 'dequeued':
      delete r.live;
      delete r.queuedWork;
      records.note(r, at, 'dequeued', `${event.work} run taken out of the queue`);
      out.push({ kind: 'load' });
      break;
    case 'started':
      return started(records, r, event.work, at, out);
    case 'finished':
      return finished(records, r, event.work, at, out);
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

/** Held before the queue, with the reason the board shows; released when the reason is absent. */
function held(records: IssueRecords, r: IssueRecord, reason: string | undefined, at: number): void {
  if (reason) {
    if (r.held !== reason) records.note(r, at, 'waiting', reason);
    r.held = reason;
  } else if (r.held !== undefined) {
    delete r.held;
    records.note(r, at, 'released', 'no longer held');
  }
}

function started(records: IssueRecords, r: IssueRecord, work: JobWork, at: number, out: Observation[]): void {
  r.live = 'running';
  r.startedAt = at;
  r.runningWork = work;
  delete r.queuedWork;
  if (work === 'map') delete r.held;
  r.runs++;
  delete r.outcome;
  if (r.queuedAt !== undefined) out.push({ kind: 'queue-wait', work, seconds: seconds(at - r.queuedAt) });
  delete r.queuedAt;
  records.note(r, at, 'started', `${work} run`);
  out.push({ kind: 'load' });
}

function finished(records: IssueRecords, r: IssueRecord, work: JobWork, at: number, out: Observation[]): void {
  out.push({ kind: 'run', work, outcome: r.outcome ?? 'done', ...(r.startedAt !== undefined ? { seconds: seconds(at - r.startedAt) } : {}) });
  if (!r.outcome) records.note(r, at, 'ended', `${work} run ended`);
  if (r.startedAt !== undefined) r.stretchMs += Math.max(0, at - r.startedAt);
  // a map run that leaves no PR hands the issue back to a person
  if (work === 'map' && r.outcome !== undefined && (r.outcome === 'failed' || ENDED_WITHOUT_PR.has(r.outcome))) endStretch(r, out);
  delete r.live;
  delete r.startedAt;
  delete r.outcome;
  delete r.runningWork;
  out.push({ kind: 'load' });
}
