/**
 * Webhook deliveries of the local GitHub: signed like GitHub's, sent one at a time in the order the
 * events happened, never retried (GitHub does not retry either), and all recorded so that a test can
 * replay them, twice or shuffled.
 */
import { createHmac, randomUUID } from 'node:crypto';

export interface Delivery {
  id: string;
  name: string;
  payload: Record<string, unknown>;
  /** `delivered` (2xx), `failed` (an error status or no answer), `dropped` (lost on purpose), `held` (not sent) */
  outcome: 'delivered' | 'failed' | 'dropped' | 'held' | 'pending';
  status?: number;
}

export class WebhookSender {
  /** Where deliveries go, e.g. `http://127.0.0.1:3000/api/github/webhooks`; unset: recorded, not sent. */
  url: string | undefined;
  /** Return true to lose a delivery, as if GitHub never sent it. */
  drop: (delivery: Delivery) => boolean = () => false;
  /** While true, deliveries are recorded as `held` and not sent (the app is "down" as far as webhooks go). */
  hold = false;
  readonly deliveries: Delivery[] = [];
  /** How many POSTs were made to the app, redeliveries and doubles included */
  posts = 0;
  #chain: Promise<void> = Promise.resolve();
  #disorder: { random: () => number; windowMs: number } | undefined;
  #buffer: Delivery[] = [];

  constructor(private readonly secret: string) {}

  send(name: string, payload: Record<string, unknown>): void {
    const delivery: Delivery = { id: randomUUID(), name, payload: structuredClone(payload), outcome: 'pending' };
    this.deliveries.push(delivery);
    if (this.drop(delivery)) {
      delivery.outcome = 'dropped';
      return;
    }
    if (this.hold || this.url === undefined) {
      delivery.outcome = 'held';
      return;
    }
    if (this.#disorder) {
      this.buffer(delivery);
      return;
    }
    const url = this.url;
    this.#chain = this.#chain.then(() => this.post(url, delivery));
  }

  /**
   * From now on every delivery is sent twice, and the deliveries of each `windowMs` are sent in an
   * order shuffled by `random` (seeded by the caller), as a busy GitHub may.
   */
  disorder(options: { random: () => number; windowMs: number }): void {
    this.#disorder = options;
  }

  private buffer(delivery: Delivery): void {
    if (this.#buffer.length === 0) setTimeout(() => this.flush(), this.#disorder!.windowMs);
    this.#buffer.push(delivery, delivery);
  }

  private flush(): void {
    const batch = this.#buffer;
    this.#buffer = [];
    const { random } = this.#disorder!;
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [batch[i], batch[j]] = [batch[j]!, batch[i]!];
    }
    const url = this.url!;
    for (const delivery of batch) this.#chain = this.#chain.then(() => this.post(url, delivery));
  }

  /** Sends a recorded delivery again (a redelivery keeps its id, as GitHub's does). */
  redeliver(delivery: Delivery): Promise<void> {
    if (this.url === undefined) throw new Error('no webhook URL to deliver to');
    const url = this.url;
    this.#chain = this.#chain.then(() => this.post(url, delivery));
    return this.#chain;
  }

  /** Resolves when every delivery sent so far has been answered (buffered ones excepted). */
  settled(): Promise<void> {
    return this.#chain;
  }

  private async post(url: string, delivery: Delivery): Promise<void> {
    this.posts += 1;
    const body = JSON.stringify(delivery.payload);
    const signature = `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/local', 'x-github-event': delivery.name,
          'x-github-delivery': delivery.id, 'x-hub-signature-256': signature,
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      delivery.status = response.status;
      delivery.outcome = response.ok ? 'delivered' : 'failed';
    } catch {
      delivery.outcome = 'failed';
    }
  }
}
