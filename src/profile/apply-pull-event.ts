import { breadcrumbOf } from './breadcrumb.js';
import type { IssueRecord, IssueRecords, PullRecord } from './issue-records.js';
import { seconds, type Observation } from './observation.js';
import type { ProfileEvent } from './profile-event.js';

export type PullEvent = Extract<ProfileEvent, { type: 'pull' | 'review' | 'revised' | 'checks' | 'conflict' | 'conflict-cleared' | 'merged' | 'closed' }>;

const PULL_EVENTS = new Set(['pull', 'review', 'revised', 'checks', 'conflict', 'conflict-cleared', 'merged', 'closed']);
const MAX_REPLACED_HEADS = 20;

export function isPullEvent(event: ProfileEvent): event is PullEvent {
  return PULL_EVENTS.has(event.type);
}

/** The PR's life: opened, reviewed, revised, its checks, in conflict or not, merged or closed. */
export function applyPullEvent(records: IssueRecords, r: IssueRecord, event: PullEvent, at: number, out: Observation[]): void {
  switch (event.type) {
    case 'pull':
      return pull(records, r, event, at);
    case 'review':
      return review(records, r, at, event, out);
    case 'revised':
      return revised(records, r, event, at, out);
    case 'checks':
      return checks(records, r, event, at);
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
      endStretch(r, out);
      records.note(r, at, 'merged', `#${event.pr}`);
      break;
    }
    case 'closed': {
      const pull = records.pull(r, event.pr);
      if (pull.mergedAt === undefined && !pull.closed) {
        records.note(r, at, 'closed', `#${event.pr} closed without merging`);
        endStretch(r, out);
      }
      pull.closed = true;
      break;
    }
  }
}

/** The agents' stretch on their own ends when a person touches the issue (a review, a merge, a close) or a run ends without a PR. */
export function endStretch(r: IssueRecord, out: Observation[]): void {
  if (r.stretchMs > 0) out.push({ kind: 'stretch', ms: r.stretchMs });
  r.stretchMs = 0;
}

function pull(records: IssueRecords, r: IssueRecord, event: Extract<PullEvent, { type: 'pull' }>, at: number): void {
  const known = r.pull?.number === event.pr;
  const pull = records.pull(r, event.pr, event.url);
  pull.base = event.base;
  pull.closed = false;
  if (event.openedAt !== undefined) pull.openedAt ??= event.openedAt;
  if (event.sha !== undefined) moveHead(pull, event.sha);
  if (event.summary !== undefined || event.files !== undefined) pull.breadcrumb = breadcrumbOf(event.summary ?? '', event.files ?? []);
  if (event.opened) {
    pull.openedAt ??= at;
    records.note(r, at, 'pr-opened', `#${event.pr}`);
  } else if (!known) {
    records.note(r, pull.openedAt ?? at, 'pr-opened', `#${event.pr}`);
  }
}

function revised(records: IssueRecords, r: IssueRecord, event: Extract<PullEvent, { type: 'revised' }>, at: number, out: Observation[]): void {
  const pull = records.pull(r, event.pr);
  pull.rounds++;
  if (pull.changesRequestedAt !== undefined) out.push({ kind: 'revision-turnaround', seconds: seconds(at - pull.changesRequestedAt) });
  delete pull.changesRequestedAt;
  delete pull.approvedAt;
  pull.verdicts.clear();
  pull.revisedAt = at;
  moveHead(pull, event.sha);
  records.note(r, at, 'revised', `new commit ${event.sha.slice(0, 7)} on #${event.pr}`);
}

/** A new head: the old head's check results no longer speak for the PR. */
function moveHead(pull: PullRecord, sha: string): void {
  if (pull.head !== undefined && pull.head !== sha) {
    pull.replacedHeads.push(pull.head);
    if (pull.replacedHeads.length > MAX_REPLACED_HEADS) pull.replacedHeads.shift();
  }
  pull.head = sha;
  if (pull.checks && pull.checks.sha !== sha) delete pull.checks;
}

function checks(records: IssueRecords, r: IssueRecord, event: Extract<PullEvent, { type: 'checks' }>, at: number): void {
  const pull = records.pull(r, event.pr);
  // a result that arrives late for a head the agent has since replaced says nothing of the PR now
  if (pull.replacedHeads.includes(event.sha)) return;
  moveHead(pull, event.sha);
  const failed = event.state === 'failed' && event.failed && event.failed.length > 0 ? event.failed : undefined;
  const changed = pull.checks?.sha !== event.sha || pull.checks.state !== event.state;
  pull.checks = { sha: event.sha, state: event.state, ...(failed ? { failed } : {}) };
  if (changed) records.note(r, at, 'checks', `${event.state} on ${event.sha.slice(0, 7)}${failed ? `: ${failed.join(', ')}` : ''}`);
}

function review(records: IssueRecords, r: IssueRecord, at: number, event: Extract<PullEvent, { type: 'review' }>, out: Observation[]): void {
  if (event.author.endsWith('[bot]')) return;
  const pull = records.pull(r, event.pr);
  if (pull.reviewIds.has(event.id)) return;
  pull.reviewIds.add(event.id);
  endStretch(r, out);
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
