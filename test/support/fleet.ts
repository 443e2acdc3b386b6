/**
 * A fleet on this machine for a test: its own Redis server, the app's first process and the others,
 * all on that Redis, each done with its start-up reconcile before the test labels anything (a
 * start-up pass that runs after a label asks again for that issue), and a client on the Redis to read
 * the fleet's shared state.
 *
 *   const fleet = await startFleet({ model, env: { MAX_AGENTS: '2', ROLE: 'web' }, others: [{ ROLE: 'worker' }, { ROLE: 'worker' }] });
 *   ...
 *   await fleet.stop();
 */
import { Redis } from 'ioredis';
import { reconciledAtStart, startSystem, type System } from './app-on-local-github.js';
import type { AppProcess } from './app-process.js';
import type { FakeMessagesApi } from './fake-messages-api.js';
import { startRedis, type RedisServer } from './redis-server.js';

export interface TestFleet {
  redis: RedisServer;
  /** The local GitHub, the model and the first process (`system.app`). */
  system: System;
  /** The processes started after the first, in the order asked. */
  others: AppProcess[];
  /** A client of the fleet's Redis, to read its shared state. */
  state: Redis;
  /** Ends the client, every process, the model, the local GitHub and Redis. */
  stop(): Promise<void>;
}

/**
 * `env`: the first process's (REDIS_URL is added); `others`: one entry per further process, started
 * with the first's environment and its own on top (`ROLE: 'worker'`, say).
 */
export async function startFleet(options: { model: FakeMessagesApi; env: Record<string, string>; others: Array<Record<string, string>> }): Promise<TestFleet> {
  const redis = await startRedis();
  const first: Record<string, string> = { ...options.env, REDIS_URL: redis.url };
  // Redis and the processes are processes of their own: a fleet that fails to start leaves none running
  const system = await startSystem({ model: options.model, env: first }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  const others: AppProcess[] = [];
  try {
    for (const own of options.others) others.push(await system.startAnother(own));
    // a web process runs no reconcile: only those that run jobs say they are done
    const roles = [first.ROLE, ...options.others.map((own) => own.ROLE ?? first.ROLE)];
    await reconciledAtStart(...[system.app, ...others].filter((_, i) => roles[i] !== 'web'));
  } catch (error) {
    await system.stop();
    await redis.stop();
    throw error;
  }
  const state = new Redis(redis.url);
  return {
    redis, system, others, state,
    async stop() {
      state.disconnect();
      await system.stop();
      await redis.stop();
    },
  };
}
