/** What the app asks of Redis outside BullMQ: scripts and plain keys. */
export interface RedisClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
  eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown>;
  exists(key: string): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
  quit(): Promise<unknown>;
}

/**
 * A connection to a fleet's Redis (REDIS_URL), with its client loaded only now: a process without
 * REDIS_URL never loads it. Commands wait out a Redis restart rather than fail.
 */
export async function connectRedis(redisUrl: string): Promise<RedisClient> {
  const { Redis } = await import('ioredis');
  return new Redis(redisUrl, { maxRetriesPerRequest: null }) as unknown as RedisClient;
}
