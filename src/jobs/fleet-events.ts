import type { Logger } from '../log.js';
import { dedicatedRedis } from './connect-redis.js';

/** A webhook delivery as plain data: GitHub's delivery id, the event's name and its payload. */
export interface FleetEvent {
  id: string;
  name: string;
  payload: unknown;
}

/** BullMQ queue names may not contain `:`. The shared queue; a worker's own is `<QUEUE>-<worker>`. */
const QUEUE = 'agent-mapreduce-events';
/** Deliveries one worker process hands to its handlers at once; the handlers only decide and queue. */
const AT_ONCE = 8;
/** A failed delivery is kept this long for an operator to look at; the reconcile pass covers its work meanwhile. */
const KEEP_FAILED_S = 24 * 3600;

interface Closable {
  close(force?: boolean): Promise<void>;
}
interface QueuedDelivery {
  name: string;
  data: FleetEvent;
  remove(): Promise<void>;
}
type EventQueue = Closable & {
  add(name: string, data: FleetEvent, options: object): Promise<unknown>;
  getWaiting(): Promise<QueuedDelivery[]>;
  waitUntilReady(): Promise<unknown>;
};
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
  readonly #queues: (name: string) => EventQueue;
  readonly #workers: Closable[];
  readonly #connections: Connection[];
  readonly #beforeClose: () => Promise<void>;
  readonly #onClose: () => Promise<void>;

  private constructor(
    queues: (name: string) => EventQueue, workers: Closable[], connections: Connection[],
    close: { before?: () => Promise<void>; after: () => Promise<void> },
  ) {
    this.#queues = queues;
    this.#workers = workers;
    this.#connections = connections;
    this.#beforeClose = close.before ?? (async () => undefined);
    this.#onClose = close.after;
  }

  /** A web process's end: it only adds deliveries, to the shared queue or a worker's own. */
  static async sender(redisUrl: string, log: Logger): Promise<FleetEvents> {
    const [{ Queue }, connection] = await Promise.all([import('bullmq'), dedicatedRedis(redisUrl)]);
    const queues = new Map<string, EventQueue>();
    const queueNamed = (name: string): EventQueue => {
      let queue = queues.get(name);
      if (!queue) {
        const made = new Queue<FleetEvent>(name, { connection });
        made.on('error', (err) => log.warn({ err }, 'event queue error; BullMQ reconnects'));
        queue = made as unknown as EventQueue;
        queues.set(name, queue);
      }
      return queue;
    };
    // Redis must answer before the web process says it is up
    await queueNamed(QUEUE).waitUntilReady();
    return new FleetEvents(queueNamed, [], [connection], {
      after: async () => {
        await Promise.all([...queues.values()].map((q) => q.close()));
      },
    });
  }

  /**
   * A worker process's end: `receive` handles each delivery taken from the shared queue and from the
   * worker's own (`worker`: its name in the fleet's routing), and `presence` is told of each of its own
   * once handled. At close, it leaves the routing first; then deliveries still waiting in its own queue
   * go to the shared one, so that a worker stopped for good leaves none behind.
   */
  static async receiver(
    redisUrl: string, worker: string, receive: (event: FleetEvent) => Promise<void>,
    presence: { handled(): Promise<void>; stop(): Promise<void> }, log: Logger,
  ): Promise<FleetEvents> {
    const { handled } = presence;
    const [{ Queue, Worker }, connection] = await Promise.all([import('bullmq'), dedicatedRedis(redisUrl)]);
    const own = ownQueue(worker);
    const take = (name: string, after: () => Promise<void>) => {
      const taker = new Worker<FleetEvent>(name, async (job) => {
        try {
          await receive(job.data);
        } finally {
          await after();
        }
      }, { connection, concurrency: AT_ONCE });
      taker.on('error', (err) => log.warn({ err }, 'event queue: worker error; BullMQ reconnects'));
      taker.on('failed', (job, err) => log.error({ err, delivery: job?.data.id, event: job?.data.name }, 'webhook delivery not handled'));
      return taker;
    };
    const takers = [take(QUEUE, async () => undefined), take(own, handled)];
    await Promise.all(takers.map((t) => t.waitUntilReady()));
    const ownEnd = new Queue<FleetEvent>(own, { connection }) as unknown as EventQueue;
    const shared = new Queue<FleetEvent>(QUEUE, { connection }) as unknown as EventQueue;
    const passOn = async () => {
      for (const waiting of await ownEnd.getWaiting().catch(() => [])) {
        await shared.add(waiting.name, waiting.data, addOptions(waiting.data.id));
        await waiting.remove().catch(() => undefined);
        await handled();
      }
      await Promise.all([ownEnd.close(), shared.close()]);
    };
    return new FleetEvents(() => {
      throw new Error('this process only receives deliveries');
    }, takers, [connection], { before: () => presence.stop(), after: passOn });
  }

  /** Hands a delivery to the fleet's workers, to `worker`'s own queue if given; resolves once Redis has it (then GitHub may be answered). */
  async send(event: FleetEvent, worker?: string): Promise<void> {
    await this.#queues(worker ? ownQueue(worker) : QUEUE).add(event.name, event, addOptions(event.id));
  }

  /** Takes no more deliveries (one being handled is dropped: GitHub's state, through the reconcile, covers it). */
  async close(): Promise<void> {
    await this.#beforeClose().catch(() => undefined);
    await Promise.all(this.#workers.map((w) => w.close(true)));
    await this.#onClose().catch(() => undefined);
    await Promise.all(this.#connections.map((c) => c.quit().catch(() => undefined)));
  }
}

function ownQueue(worker: string): string {
  return `${QUEUE}-${worker}`;
}

function addOptions(deliveryId: string): object {
  return { jobId: jobIdOf(deliveryId), removeOnComplete: true, removeOnFail: { age: KEEP_FAILED_S } };
}

/** BullMQ job ids may not contain `:` nor be a bare integer; GitHub's delivery ids are GUIDs, but a test's may be anything. */
function jobIdOf(deliveryId: string): string {
  return `delivery-${deliveryId.replace(/:/g, '-')}`;
}
