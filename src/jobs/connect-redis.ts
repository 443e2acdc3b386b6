import type { Redis } from 'ioredis';

/** What the app asks of Redis outside BullMQ: scripts, plain keys and appends to a stream. */
export interface RedisClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
  eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown>;
  exists(key: string): Promise<number>;
  pttl(key: string): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
  xadd(...args: Array<string | number>): Promise<unknown>;
  quit(): Promise<unknown>;
}

/** A command Redis does not answer within this long fails; its caller asks again (and can stop asking). */
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * A connection to a fleet's Redis (REDIS_URL), with its client loaded only now: a process without
 * REDIS_URL never loads it. It reconnects by itself; while Redis is away, a command fails after a few
 * seconds rather than hang (so that a shutdown never waits for Redis), and each outage is logged.
 */
export async function connectRedis(redisUrl: string, log: { warn(data: object, msg: string): void }): Promise<RedisClient> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { commandTimeout: COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 1 });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) log.warn({ err: err.message }, 'Redis unreachable; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    down = false;
  });
  return redis as unknown as RedisClient;
}

/**
 * A connection of its own, for what blocks or subscribes (such a connection can do nothing else) and
 * for BullMQ: it retries forever, so a Redis restart is waited out rather than thrown, and resubscribes
 * by itself. Its errors are not logged: the app's command connection (connectRedis) reports outages.
 */
export async function dedicatedRedis(redisUrl: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  return redis;
}
