/**
 * A fleet's reduce pass on a real Redis server and BullMQ: one whose BullMQ lock is lost (its process
 * stalled past the lock's lifetime, and another took the pass) is told to stop.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { FleetReduce, type PassAddress } from '../../src/jobs/fleet-passes.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
let fleet: FleetReduce;
let state: Redis;
const logged: string[] = [];
let started!: (signal: AbortSignal) => void;
const passStarted = new Promise<AbortSignal>((resolve) => {
  started = resolve;
});

beforeAll(async () => {
  redis = await startRedis();
  state = new Redis(redis.url);
  const log = { error: (_: object, msg: string) => logged.push(msg), warn: () => undefined } as unknown as Parameters<typeof FleetReduce.start>[0]['log'];
  fleet = await FleetReduce.start({
    redisUrl: redis.url, concurrency: 1, lockMs: 1_000, log,
    // the pass runs until it is told to stop
    runHere: (_address, signal) => {
      started(signal);
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  });
});

afterAll(async () => {
  await fleet?.close();
  state?.disconnect();
  await redis?.stop();
});

const address: PassAddress = { installationId: 1, owner: 'o', repo: 'r', baseRef: 'main', defaultBranch: 'main', cloneUrl: 'http://127.0.0.1/o/r.git' };

describe('FleetReduce', () => {
  it('aborts a pass whose lock was lost, and says so', async () => {
    await fleet.trigger(address);
    const signal = await passStarted;
    expect(signal.aborted).toBe(false);
    // the lock lapses as if this process had stalled past it
    const locks = await state.keys('bull:agent-mapreduce-reduce:*:lock');
    expect(locks).toHaveLength(1);
    await state.del(locks[0]!);

    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(signal.reason).toEqual(new Error('the reduce pass lost its fleet lock'));
    expect(logged).toContain('reduce pass lost its fleet lock: it stops before its next merge (another process runs the pass)');
  });
});
