import { dedicatedRedis, type RedisClient } from './connect-redis.js';
import { JOB_LOCK_PREFIX } from './fleet-locks.js';

const CHANNEL = 'agent-mapreduce:cancel';

/**
 * `/agent stop`, an unlabel or a close reaching the process that runs the job, wherever it was
 * delivered: the process that was asked publishes the cancel on a Redis channel every process of the
 * fleet listens to, and the one holding the job stops it. Whether a job runs somewhere is read from its
 * lock (fleet-locks.ts), so the answer to the person is right.
 */
export class FleetCancel {
  readonly #publisher: RedisClient;
  readonly #subscriber: { quit(): Promise<unknown> };
  readonly #self: string;

  private constructor(publisher: RedisClient, subscriber: { quit(): Promise<unknown> }, self: string) {
    this.#publisher = publisher;
    this.#subscriber = subscriber;
    this.#self = self;
  }

  /** Listens for cancels from the rest of the fleet; `onCancel` stops the job here, if it is here. */
  static async start(redisUrl: string, publisher: RedisClient, onCancel: (key: string, reason: string) => void): Promise<FleetCancel> {
    const subscriber = await dedicatedRedis(redisUrl);
    const self = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    subscriber.on('message', (_channel: string, text: string) => {
      try {
        const message = JSON.parse(text) as { key?: unknown; reason?: unknown; from?: unknown };
        if (message.from === self || typeof message.key !== 'string') return;
        onCancel(message.key, typeof message.reason === 'string' ? message.reason : 'cancelled');
      } catch {
        // not ours: ignored
      }
    });
    await subscriber.subscribe(CHANNEL);
    return new FleetCancel(publisher, subscriber, self);
  }

  /** Asks the fleet to stop the job; true when a process holds it running. */
  async cancel(key: string, reason: string): Promise<boolean> {
    const running = await this.#publisher.exists(JOB_LOCK_PREFIX + key);
    await this.#publisher.publish(CHANNEL, JSON.stringify({ key, reason, from: this.#self }));
    return running === 1;
  }

  async close(): Promise<void> {
    await this.#subscriber.quit().catch(() => undefined);
  }
}
