import type { Logger } from '../log.js';
import { dedicatedRedis } from './connect-redis.js';

/** A webhook delivery as plain data: GitHub's delivery id, the event's name and its payload. */
export interface FleetEvent {
  id: string;
  name: string;
  payload: unknown;
}

/** BullMQ queue names may not contain `:`. */
const QUEUE = 'agent-mapreduce-events';
/** Deliveries one worker process hands to its handlers at once; the handlers only decide and queue. */
const AT_ONCE = 8;
/** A failed delivery is kept this long for an operator to look at; the reconcile pass covers its work meanwhile. */
const KEEP_FAILED_S = 24 * 3600;

interface Closable {
  close(force?: boolean): Promise<void>;
}
type EventQueue = Closable & { add(name: string, data: FleetEvent, options: object): Promise<unknown> };
type Connection = { quit(): Promise<unknown> };

/**
 * Webhook deliveries passed from a fleet's web processes (ROLE=web: they verify, enqueue and answer
 * GitHub at once) to its workers (ROLE=worker), which hand each to the same handlers a single process
 * runs. A delivery is a job whose id is GitHub's delivery id, so a redelivery while the first is still
 * queued is not handled twice. A worker that dies while handling one has it taken again by another
 * (BullMQ's stalled-job recovery); the handlers are safe to repeat, and the reconcile pass (GitHub is
 * the source of truth) covers the rest. BullMQ is loaded only when a fleet is configured.
 */
export class FleetEvents {
  readonly #queue: EventQueue | undefined;
  readonly #worker: Closable | undefined;
  readonly #connections: Connection[];

  private constructor(queue: EventQueue | undefined, worker: Closable | undefined, connections: Connection[]) {
    this.#queue = queue;
    this.#worker = worker;
    this.#connections = connections;
  }

  /** A web process's end: it only adds deliveries. */
  static async sender(redisUrl: string, log: Logger): Promise<FleetEvents> {
    const [{ Queue }, connection] = await Promise.all([import('bullmq'), dedicatedRedis(redisUrl)]);
    const queue = new Queue<FleetEvent>(QUEUE, { connection });
    queue.on('error', (err) => log.warn({ err }, 'event queue error; BullMQ reconnects'));
    await queue.waitUntilReady();
    return new FleetEvents(queue as unknown as EventQueue, undefined, [connection]);
  }

  /** A worker process's end: `receive` handles each delivery taken from the queue. */
  static async receiver(redisUrl: string, receive: (event: FleetEvent) => Promise<void>, log: Logger): Promise<FleetEvents> {
    const [{ Worker }, connection] = await Promise.all([import('bullmq'), dedicatedRedis(redisUrl)]);
    const worker = new Worker<FleetEvent>(QUEUE, async (job) => {
      await receive(job.data);
    }, { connection, concurrency: AT_ONCE });
    worker.on('error', (err) => log.warn({ err }, 'event queue: worker error; BullMQ reconnects'));
    worker.on('failed', (job, err) => log.error({ err, delivery: job?.data.id, event: job?.data.name }, 'webhook delivery not handled'));
    await worker.waitUntilReady();
    return new FleetEvents(undefined, worker, [connection]);
  }

  /** Hands a delivery to the fleet's workers; resolves once Redis has it (then GitHub may be answered). */
  async send(event: FleetEvent): Promise<void> {
    if (!this.#queue) throw new Error('this process only receives deliveries');
    await this.#queue.add(event.name, event, {
      jobId: jobIdOf(event.id),
      removeOnComplete: true,
      removeOnFail: { age: KEEP_FAILED_S },
    });
  }

  /** Takes no more deliveries (one being handled is dropped: GitHub's state, through the reconcile, covers it). */
  async close(): Promise<void> {
    await this.#worker?.close(true);
    await this.#queue?.close();
    await Promise.all(this.#connections.map((c) => c.quit().catch(() => undefined)));
  }
}

/** BullMQ job ids may not contain `:` nor be a bare integer; GitHub's delivery ids are GUIDs, but a test's may be anything. */
function jobIdOf(deliveryId: string): string {
  return `delivery-${deliveryId.replace(/:/g, '-')}`;
}
