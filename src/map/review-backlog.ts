import type { GitHub } from '../github/port.js';
import { issueOfBranch } from '../names.js';

/** How many PR numbers per repository are remembered as reviewed by a person. */
const REMEMBERED = 5_000;

/**
 * Which agent PRs of a base branch still wait for their first review by a person (the pace the
 * reviewers set, `map.maxAwaitingReview`). A PR leaves for good once a person reviews it, so each
 * is asked about until then and never after: one conditional listing of open PRs (an unchanged one
 * costs nothing) and one review listing per PR not yet known to be reviewed.
 */
export class ReviewBacklog {
  /** `owner/repo` → PR numbers a person has reviewed (learnt from a listing or a webhook). */
  readonly #reviewed = new Map<string, Set<number>>();

  /** The open agent PRs on `base` that no person has reviewed yet, oldest first. */
  async awaiting(github: GitHub, base: string): Promise<number[]> {
    const reviewed = this.#set(github.owner, github.repo);
    const pulls = (await github.listOpenPulls())
      .filter((p) => !p.fromFork && p.baseRef === base && issueOfBranch(p.headRef) !== undefined)
      .sort((a, b) => a.number - b.number);
    const waiting: number[] = [];
    for (const pull of pulls) {
      if (reviewed.has(pull.number)) continue;
      const reviews = await github.listReviews(pull.number);
      if (reviews.some((r) => r.state !== 'PENDING' && byPerson(r.author))) this.#remember(reviewed, pull.number);
      else waiting.push(pull.number);
    }
    return waiting;
  }

  /** A review webhook: the PR no longer waits for a first review, if a person wrote it. */
  noteReview(owner: string, repo: string, pullNumber: number, author: string): void {
    if (byPerson(author)) this.#remember(this.#set(owner, repo), pullNumber);
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

/** GitHub Apps and other bots sign as `name[bot]`; their reviews are not a person's. */
function byPerson(login: string): boolean {
  return login !== '' && !login.endsWith('[bot]');
}
