/** What the app asks of Redis outside BullMQ: scripts and plain keys. */
export interface RedisClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
  eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown>;
  exists(key: string): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
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
