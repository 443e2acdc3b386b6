import { afterAll, beforeAll } from '@jest/globals';
import { connectRedis, type RedisClient } from '../../src/jobs/connect-redis.js';
import { startRedis, type RedisServer } from './redis-server.js';

/**
 * A Redis server for one test file: started before its tests, and stopped after them once every
 * connection `connect` made (each one process of a fleet) is closed.
 */
export function redisForFile(): { url(): string; connect(): Promise<RedisClient> } {
  let server: RedisServer | undefined;
  const clients: RedisClient[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
    await server?.stop();
  });
  return {
    url: () => server!.url,
    async connect() {
      const client = await connectRedis(server!.url, { warn: () => undefined });
      clients.push(client);
      return client;
    },
  };
}
