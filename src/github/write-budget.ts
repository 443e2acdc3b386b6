/**
 * GitHub's secondary limit on content-creating requests: "no more than 80 content-generating
 * requests per minute and no more than 500 content-generating requests per hour". One budget per
 * installation, shared by every pipeline, keeps the app under it (80 a minute and 450 an hour by
 * default, a margin for people using the same installation) with sliding windows: a write that
 * would go over waits for the oldest write of the full window to age out, and never fails. Waiting
 * writes go out by priority: merges, then PRs, then comments and the rest.
 *
 * Written here rather than taken from a library: Bottleneck (what Octokit's throttling uses) has not
 * been released since 2019, `limiter` has one window and no priorities, and p-queue's intervals are
 * fixed windows that let 2 × 80 writes through around a window's edge.
 */

export interface WriteLimits {
  perMinute: number;
  perHour: number;
  /** The windows' lengths: a minute and an hour, shorter only where a simulation compresses time. */
  minuteMs?: number;
  hourMs?: number;
}

export const DEFAULT_WRITE_LIMITS: WriteLimits = { perMinute: 80, perHour: 450 };

/** The kinds of notifying writes, in the order they go out when several wait. */
export const WRITE_KINDS = ['merge', 'pull', 'review', 'comment', 'issue'] as const;
export type WriteKind = typeof WRITE_KINDS[number];

const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * The writes GitHub's REST description marks as triggering notifications (and so counting against the
 * secondary limit's content-creation budget): new issues, comments, PRs, reviews, review requests, and
 * merges. Edits, labels, reactions, check runs and deletions are not among them.
 */
export function notifyingWrite(method: string, url: string): WriteKind | null {
  const path = url.split('?')[0]!.replace(/^https?:\/\/[^/]+(\/api\/v3)?/, '');
  const verb = method.toUpperCase();
  if (verb === 'PUT' && /^\/repos\/[^/]+\/[^/]+\/pulls\/[^/]+\/merge$/.test(path)) return 'merge';
  if (verb !== 'POST') return null;
  if (/^\/repos\/[^/]+\/[^/]+\/pulls$/.test(path)) return 'pull';
  if (/^\/repos\/[^/]+\/[^/]+\/pulls\/[^/]+\/(reviews|requested_reviewers)$/.test(path)) return 'review';
  if (/^\/repos\/[^/]+\/[^/]+\/(issues\/[^/]+\/comments|pulls\/[^/]+\/comments|commits\/[^/]+\/comments)$/.test(path)) return 'comment';
  if (/^\/repos\/[^/]+\/[^/]+\/issues$/.test(path)) return 'issue';
  return null;
}

/** What paces a process's notifying writes: this one process's budget, or a fleet's shared one. */
export interface WriteAllowance {
  /** Resolves when the write may go out. */
  take(kind: WriteKind): Promise<void>;
  /** Writes waiting for room. */
  readonly waiting: number;
}

/** Writes waiting for room, in the order they go out: by kind (merges first), then first come. */
export class WaitingWrites {
  readonly #waiting: Array<{ rank: number; seq: number; go: () => void }> = [];
  #seq = 0;

  get size(): number {
    return this.#waiting.length;
  }

  /** Resolves once `release` lets this write go. */
  add(kind: WriteKind): Promise<void> {
    return new Promise((go) => {
      this.#waiting.push({ rank: WRITE_KINDS.indexOf(kind), seq: this.#seq++, go });
      this.#waiting.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    });
  }

  /** Lets the first in line go. */
  release(): void {
    this.#waiting.shift()?.go();
  }
}

export class WriteBudget implements WriteAllowance {
  /** When each write of the last hour went out, oldest first. */
  readonly #sent: number[] = [];
  readonly #waiting = new WaitingWrites();
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly limits: WriteLimits = DEFAULT_WRITE_LIMITS, private readonly now: () => number = Date.now) {}

  /** Writes waiting for room. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Writes left in the current hour's window. */
  get leftThisHour(): number {
    this.#forget();
    return Math.max(0, this.limits.perHour - this.#sent.length);
  }

  /** Resolves when the write may go out (at once when there is room and nobody waits before it). */
  take(kind: WriteKind): Promise<void> {
    const taken = this.#waiting.add(kind);
    this.#pump();
    return taken;
  }

  #pump(): void {
    if (this.#timer) return;
    for (;;) {
      if (this.#waiting.size === 0) return;
      const wait = this.#wait();
      if (wait > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, wait);
        this.#timer.unref?.();
        return;
      }
      this.#sent.push(this.now());
      this.#waiting.release();
    }
  }

  /** How long until one more write fits in both windows. */
  #wait(): number {
    this.#forget();
    const now = this.now();
    const [minute, hour] = [this.limits.minuteMs ?? MINUTE, this.limits.hourMs ?? HOUR];
    const inLastMinute = this.#sent.filter((t) => t > now - minute);
    let until = now;
    if (inLastMinute.length >= this.limits.perMinute) until = Math.max(until, inLastMinute[inLastMinute.length - this.limits.perMinute]! + minute);
    if (this.#sent.length >= this.limits.perHour) until = Math.max(until, this.#sent[this.#sent.length - this.limits.perHour]! + hour);
    return until - now;
  }

  #forget(): void {
    const cutoff = this.now() - (this.limits.hourMs ?? HOUR);
    while (this.#sent.length > 0 && this.#sent[0]! <= cutoff) this.#sent.shift();
  }
}

/** One budget per installation, made on first use: this process's own, or (`shared`) the fleet's. */
export class WriteBudgets {
  readonly #budgets = new Map<number, WriteAllowance>();

  constructor(
    private readonly limits: WriteLimits = DEFAULT_WRITE_LIMITS,
    private readonly shared?: (installationId: number, limits: WriteLimits) => WriteAllowance,
  ) {}

  of(installationId: number): WriteAllowance {
    let budget = this.#budgets.get(installationId);
    if (!budget) {
      budget = this.shared?.(installationId, this.limits) ?? new WriteBudget(this.limits);
      this.#budgets.set(installationId, budget);
    }
    return budget;
  }

  /** Writes waiting across installations (for /metrics and the dashboard). */
  get waiting(): number {
    return [...this.#budgets.values()].reduce((sum, b) => sum + b.waiting, 0);
  }
}
