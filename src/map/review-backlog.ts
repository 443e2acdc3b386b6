import type { GitHub } from '../github/port.js';
import { issueOfBranch } from '../names.js';

/** How many PR numbers per repository are remembered as reviewed by a person. */
const REMEMBERED = 5_000;

/**
 * Which agent PRs of a base branch still wait for their first review by a person with write access
 * (the pace the reviewers set, `map.maxAwaitingReview`): a bot's review, or a passer-by's on a public
 * repository, does not let more agents start. A PR leaves for good once such a person reviews it, so
 * each is asked about until then and never after: one conditional listing of open PRs (an unchanged
 * one costs nothing) and one review listing per PR not yet known to be reviewed, only as many as the
 * decision needs.
 */
export class ReviewBacklog {
  readonly #isWriter: (github: GitHub, login: string) => Promise<boolean>;
  /** `owner/repo` → PR numbers a writer has reviewed (learnt from a listing or a webhook). */
  readonly #reviewed = new Map<string, Set<number>>();

  constructor(isWriter: (github: GitHub, login: string) => Promise<boolean>) {
    this.#isWriter = isWriter;
  }

  /** The open agent PRs on `base` that no writer has reviewed yet, oldest first; at most `enough` of them. */
  async awaiting(github: GitHub, base: string, enough = Infinity): Promise<number[]> {
    const reviewed = this.#set(github.owner, github.repo);
    const pulls = (await github.listOpenPulls())
      .filter((p) => !p.fromFork && p.baseRef === base && issueOfBranch(p.headRef) !== undefined)
      .sort((a, b) => a.number - b.number);
    const waiting: number[] = [];
    for (const pull of pulls) {
      if (waiting.length >= enough) break;
      if (reviewed.has(pull.number)) continue;
      if (await this.#reviewedByWriter(github, pull.number)) this.#remember(reviewed, pull.number);
      else waiting.push(pull.number);
    }
    return waiting;
  }

  /** A writer reviewed the PR (its webhook): it no longer waits for a first review. */
  noteReviewed(owner: string, repo: string, pullNumber: number): void {
    this.#remember(this.#set(owner, repo), pullNumber);
  }

  async #reviewedByWriter(github: GitHub, pullNumber: number): Promise<boolean> {
    for (const review of await github.listReviews(pullNumber)) {
      if (review.state === 'PENDING' || review.author === '' || review.author.endsWith('[bot]')) continue;
      if (await this.#isWriter(github, review.author)) return true;
    }
    return false;
  }

  #set(owner: string, repo: string): Set<number> {
    const key = `${owner}/${repo}`;
    let set = this.#reviewed.get(key);
    if (!set) this.#reviewed.set(key, set = new Set());
    return set;
  }

  #remember(set: Set<number>, pullNumber: number): void {
    set.add(pullNumber);
    if (set.size > REMEMBERED) set.delete(set.values().next().value!);
  }
}
