import type { IssueInfo } from '../github/port.js';
import type { MapRequest } from './map-service.js';
import { findOpenBlockers } from './find-blockers.js';
import type { ReviewBacklog } from './review-backlog.js';

/** Why an issue may not start yet; it waits, held before the queue, until that changes. */
export type Hold =
  | { kind: 'blockers'; blockers: number[]; reason: string }
  | { kind: 'reviews'; base: string; reason: string };

/** What one admission round knows: the PRs awaiting review per base, read once per round. */
export type AwaitingMemo = Map<string, Promise<number[]>>;

/**
 * Decides whether a map run may join the queue now:
 * 1. an issue waits while an issue that blocks it is open (GitHub's issue dependencies, or a
 *    `Blocked by #n` line), so that it starts from a base that has the blocker's fix;
 * 2. an implementing run waits while `map.maxAwaitingReview` agent PRs of its base, counting the
 *    runs already admitted (each will open one), wait for their first review by a person: agents
 *    go no faster than the people who review them.
 */
export class Admission {
  readonly #backlog: ReviewBacklog;

  constructor(backlog: ReviewBacklog) {
    this.#backlog = backlog;
  }

  async holdOf(request: MapRequest, issue: Pick<IssueInfo, 'number' | 'body' | 'openBlockers'>, admittedOnBase: (base: string) => number,
    memo: AwaitingMemo = new Map()): Promise<Hold | undefined> {
    const blockers = await findOpenBlockers(request.github, issue);
    if (blockers.length > 0) {
      const list = blockers.map((n) => `#${n}`).join(', ');
      return { kind: 'blockers', blockers, reason: `waiting for ${list} to close: this issue is blocked by ${blockers.length === 1 ? 'it' : 'them'}.` };
    }
    const cap = request.config.map.maxAwaitingReview;
    if (cap === undefined || request.mode !== 'implement') return undefined;
    const base = baseOf(request);
    let awaiting = memo.get(base);
    if (!awaiting) memo.set(base, awaiting = this.#backlog.awaiting(request.github, base));
    const pulls = await awaiting;
    const underWay = admittedOnBase(base);
    if (pulls.length + underWay < cap) return undefined;
    return { kind: 'reviews', base, reason: reviewsReason(pulls, underWay, cap, base) };
  }
}

export function baseOf(request: Pick<MapRequest, 'config' | 'repository'>): string {
  return request.config.map.baseBranch ?? request.repository.defaultBranch;
}

function reviewsReason(pulls: number[], underWay: number, cap: number, base: string): string {
  const named = pulls.slice(0, 10).map((n) => `#${n}`).join(', ') + (pulls.length > 10 ? ', …' : '');
  const prs = `${pulls.length} PR${pulls.length === 1 ? '' : 's'} await${pulls.length === 1 ? 's' : ''} review`;
  return `waiting: ${prs}${pulls.length > 0 ? ` (${named})` : ''}` +
    (underWay > 0 ? ` and ${underWay} run${underWay === 1 ? ' is' : 's are'} under way` : '') +
    ` on \`${base}\`; \`map.maxAwaitingReview\` is ${cap}. It starts by itself once a person reviews one.`;
}

