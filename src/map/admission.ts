import type { IssueInfo } from '../github/port.js';
import type { MapRequest } from './map-request.js';
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
 *    runs already admitted (each will open one), wait for their first review by a writer: agents
 *    go no faster than the people who review them. The reason names the cap, not the live count,
 *    so that held issues' statuses are not rewritten at every run's start and end.
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
    // enough to decide at the cap: PRs past it are not asked about
    if (!awaiting) memo.set(base, awaiting = this.#backlog.awaiting(request.github, base, cap));
    const pulls = await awaiting;
    if (pulls.length + admittedOnBase(base) < cap) return undefined;
    return {
      kind: 'reviews', base,
      reason: `waiting: ${cap} agent PR${cap === 1 ? '' : 's'} on \`${base}\` await${cap === 1 ? 's' : ''} review or ${cap === 1 ? 'is' : 'are'} being written ` +
        `(\`map.maxAwaitingReview\` is ${cap}); it starts by itself once a person with write access reviews one.`,
    };
  }
}

export function baseOf(request: Pick<MapRequest, 'config' | 'repository'>): string {
  return request.config.map.baseBranch ?? request.repository.defaultBranch;
}
