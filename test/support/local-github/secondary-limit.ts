import { faultReply, type FaultReply } from './faults.js';

/**
 * GitHub's secondary limit on content-creating requests, as its REST docs state it: "no more than 80
 * content-generating requests per minute and no more than 500 content-generating requests per
 * hour". Switched on by a test or a simulation (`github.secondaryLimit = new SecondaryLimit()`), it
 * answers the request that goes over with GitHub's 403 and a `retry-after`, and counts those answers.
 * The operations are the ones GitHub's REST description marks as triggering notifications; the list
 * is this fake's own, not the app's, so that the app's count is checked against something else.
 */
const CONTENT_CREATING = new Set([
  'issues/create', 'issues/create-comment', 'pulls/create', 'pulls/create-review', 'pulls/create-review-comment',
  'pulls/create-reply-for-review-comment', 'pulls/request-reviewers', 'pulls/merge', 'repos/create-commit-comment',
]);

export interface SecondaryLimits {
  perMinute: number;
  perHour: number;
  /** Shorter windows for a simulation that compresses time; a minute and an hour otherwise. */
  minuteMs?: number;
  hourMs?: number;
}

export class SecondaryLimit {
  /** When each content-creating request of the last hour was answered, oldest first. */
  readonly #sent: number[] = [];
  /** How many requests were refused for going over. */
  refused = 0;
  /** The most content-creating requests seen in one minute window, and in one hour window. */
  peakMinute = 0;
  peakHour = 0;

  constructor(readonly limits: SecondaryLimits = { perMinute: 80, perHour: 500 }) {}

  /** The refusal to send for this operation now, or undefined when it may go through (and then counts). */
  take(operationId: string, now = Date.now()): FaultReply | undefined {
    if (!CONTENT_CREATING.has(operationId)) return undefined;
    const [minute, hour] = [this.limits.minuteMs ?? 60_000, this.limits.hourMs ?? 3_600_000];
    while (this.#sent.length > 0 && this.#sent[0]! <= now - hour) this.#sent.shift();
    const inMinute = this.#sent.filter((t) => t > now - minute).length;
    if (inMinute >= this.limits.perMinute || this.#sent.length >= this.limits.perHour) {
      this.refused += 1;
      return faultReply({ kind: 'secondary-limit', retryAfterSeconds: Math.max(1, Math.ceil(minute / 1000)), operation: operationId, times: 1 });
    }
    this.#sent.push(now);
    this.peakMinute = Math.max(this.peakMinute, inMinute + 1);
    this.peakHour = Math.max(this.peakHour, this.#sent.length);
    return undefined;
  }
}
