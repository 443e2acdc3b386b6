/**
 * Fault switches of the local GitHub: the next N calls of an operation fail the way GitHub fails.
 */

export type FaultKind =
  | { kind: 'error'; status: 500 | 502 | 503 }
  /** 403 with GitHub's secondary rate limit message and a `retry-after` header */
  | { kind: 'secondary-limit'; retryAfterSeconds: number }
  /** 429 with `retry-after` */
  | { kind: 'too-many-requests'; retryAfterSeconds: number }
  | { kind: 'delay'; ms: number }
  /** 409 as `pulls/merge` answers when the head moved after the caller read it */
  | { kind: 'head-moved' }
  /** 403 as GitHub answers an installation that lacks the permission (one not yet accepted, say) */
  | { kind: 'forbidden' };

export type Fault = FaultKind & {
  /** An operation id of GitHub's OpenAPI description, e.g. `pulls/create` */
  operation: string;
  /** How many calls it hits; then it is spent. */
  times: number;
  /** The call is carried out and only its answer is lost (a 502 from a proxy after the work was done). */
  afterHandling?: boolean;
};

export interface FaultReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export class FaultSwitches {
  readonly #faults: Fault[] = [];
  /** Faults that fired, in order, as `<operation> <kind>` */
  readonly fired: string[] = [];

  add(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  clear(): void {
    this.#faults.length = 0;
  }

  /** Takes one shot of the first live fault for the operation, if any. */
  take(operation: string): Fault | undefined {
    const fault = this.#faults.find((f) => f.operation === operation && f.times > 0);
    if (!fault) return undefined;
    fault.times -= 1;
    this.fired.push(`${operation} ${fault.kind}`);
    return fault;
  }
}

export function faultReply(fault: Fault): FaultReply | undefined {
  switch (fault.kind) {
    case 'error':
      return { status: fault.status, headers: {}, body: { message: fault.status === 500 ? 'Server Error' : 'Bad Gateway' } };
    case 'secondary-limit':
      return {
        status: 403,
        headers: { 'retry-after': String(fault.retryAfterSeconds) },
        body: {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        },
      };
    case 'too-many-requests':
      return { status: 429, headers: { 'retry-after': String(fault.retryAfterSeconds) }, body: { message: 'Too Many Requests' } };
    case 'head-moved':
      return { status: 409, headers: {}, body: { message: 'Head branch was modified. Review and try the merge again.', documentation_url: 'https://docs.github.com/rest' } };
    case 'forbidden':
      return { status: 403, headers: {}, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' } };
    case 'delay':
      return undefined;
  }
}
