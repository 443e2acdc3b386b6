import type { Logger } from '../log.js';
import { dedicatedRedis } from './connect-redis.js';

/** Where a reduce pass works, as plain data: any process of the fleet can reach the repository again from it. */
export interface PassAddress {
  installationId: number;
  owner: string;
  repo: string;
  baseRef: string;
  defaultBranch: string;
  cloneUrl: string;
}

/** BullMQ queue names may not contain `:`. */
const QUEUE = 'agent-mapreduce-reduce';

/**
 * Reduce passes shared by the processes of a fleet, on BullMQ: a trigger anywhere adds a job whose
 * deduplication id is the (repository, base) pair, with `keepLastIfActive`, so at most one pass of a
 * base runs in the whole fleet and a trigger during it starts exactly one more (BullMQ keeps at most
 * one active and one waiting job per id). Whichever process takes the job runs the pass there, as
 * the single process does. BullMQ and its Redis client are loaded only when REDIS_URL is set.
 */
/** Reduce passes shared by a fleet's processes: `trigger` asks for one anywhere in the fleet. */
export interface FleetPasses {
  trigger(address: PassAddress): Promise<void>;
  close(): Promise<void>;
}

interface Closable {
  close(): Promise<void>;
}
type PassQueue = Closable & { add(name: string, data: PassAddress, options: object): Promise<unknown> };
type Connection = { quit(): Promise<unknown> };

export class FleetReduce implements FleetPasses {
  readonly #queue: PassQueue;
  readonly #worker: Closable;
  readonly #connections: Connection[];

  private constructor(queue: PassQueue, worker: Closable, connections: Connection[]) {
    this.#queue = queue;
    this.#worker = worker;
    this.#connections = connections;
  }

  /**
   * `lockMs`: a pass whose process stops renewing its BullMQ lock (killed, or its event loop stuck) is
   * given to another process after this long. BullMQ does not stop the first one's pass if it comes back
   * (its renewal then fails): that abort is done here, through `runHere`'s signal, so that two passes of
   * one base never merge side by side.
   */
  static async start(options: {
    redisUrl: string; runHere: (address: PassAddress, signal: AbortSignal) => Promise<void>; concurrency: number; lockMs: number; log: Logger;
  }): Promise<FleetReduce> {
    const [{ Queue, Worker }, queueConnection, workerConnection] = await Promise.all([
      import('bullmq'), dedicatedRedis(options.redisUrl), dedicatedRedis(options.redisUrl),
    ]);
    const queue = new Queue<PassAddress>(QUEUE, { connection: queueConnection });
    const running = new Map<string, AbortController>();
    const worker = new Worker<PassAddress>(QUEUE, async (job) => {
      const controller = new AbortController();
      running.set(job.id!, controller);
      try {
        await options.runHere(job.data, controller.signal);
      } finally {
        running.delete(job.id!);
      }
    }, { connection: workerConnection, concurrency: options.concurrency, lockDuration: options.lockMs });
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const id of jobIds) {
        options.log.error({ job: id }, 'reduce pass lost its fleet lock: it stops before its next merge (another process runs the pass)');
        running.get(id)?.abort(new Error('the reduce pass lost its fleet lock'));
      }
    });
    worker.on('error', (err) => options.log.warn({ err }, 'reduce queue: worker error; BullMQ reconnects'));
    queue.on('error', (err) => options.log.warn({ err }, 'reduce queue error; BullMQ reconnects'));
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    return new FleetReduce(queue as unknown as PassQueue, worker, [queueConnection, workerConnection]);
  }

  /** Asks for a pass of the base somewhere in the fleet; resolves once Redis has the job. */
  async trigger(address: PassAddress): Promise<void> {
    await this.#queue.add('pass', address, {
      deduplication: { id: `${address.owner}/${address.repo}@${address.baseRef}`, keepLastIfActive: true },
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /** Stops taking passes (a running one finishes first) and closes the connections. */
  async close(): Promise<void> {
    await this.#worker.close();
    await this.#queue.close();
    await Promise.all(this.#connections.map((c) => c.quit().catch(() => undefined)));
  }
}
