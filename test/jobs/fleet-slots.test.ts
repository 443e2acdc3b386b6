/**
 * The fleet's line for its slots, on a real Redis server: two FleetSlots on their own connections
 * stand for two processes of a fleet.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectRedis, type RedisClient } from '../../src/jobs/connect-redis.js';
import { FleetSlots } from '../../src/jobs/fleet-slots.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
const clients: RedisClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
  await redis?.stop();
});

const quiet = { warn: () => undefined };

async function processSlots(cap: number): Promise<FleetSlots> {
  const client = await connectRedis(redis.url, quiet);
  clients.push(client);
  return FleetSlots.start(redis.url, client, cap, 30_000);
}

function gate(): { open(): void; promise: Promise<void> } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, promise };
}

/** A job that wants its slot at once, says when it has it, and holds it until its gate opens. */
function hold(slots: FleetSlots, name: string, job: { group: string; groupCap?: number; since: number; queuedAt: number }, order: string[]) {
  const done = gate();
  const signal = new AbortController().signal;
  const ran = slots.run({ groupCap: 1, priority: 0, ...job }, () => done.promise, {
    signal, wanted: Promise.resolve(), taken: () => order.push(name), released: new Promise(() => undefined),
  });
  return { release: done.open, ran };
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 400 && !what(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
};

describe('FleetSlots', () => {
  it('gives a freed slot to the first queued of two jobs labelled in the same second, whichever process holds it', async () => {
    const [one, two] = [await processSlots(1), await processSlots(1)];
    const order: string[] = [];
    const second = 1_796_000_000_000; // label times are whole seconds
    const first = hold(one, 'first', { group: 'o/a', since: second, queuedAt: second + 10 }, order);
    await until(() => order.length === 1);
    // queued later, asked in the first process; queued earlier, asked in the second
    const later = hold(one, 'later', { group: 'o/b', since: second, queuedAt: second + 900 }, order);
    const earlier = hold(two, 'earlier', { group: 'o/c', since: second, queuedAt: second + 500 }, order);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(order).toEqual(['first']);

    first.release();
    await until(() => order.length === 2);
    expect(order).toEqual(['first', 'earlier']);
    earlier.release();
    await until(() => order.length === 3);
    expect(order).toEqual(['first', 'earlier', 'later']);
    later.release();
    await Promise.all([first.ran, earlier.ran, later.ran]);
  });

  it('lets a waiter whose repository is full hold up nobody', async () => {
    const [one, two] = [await processSlots(2), await processSlots(2)];
    const order: string[] = [];
    const second = 1_796_000_100_000;
    const a1 = hold(one, 'a1', { group: 'o/full', since: second, queuedAt: second }, order);
    await until(() => order.length === 1);
    // a2 is first in line but its repository (cap 1) is full; b, behind it, takes the free slot
    const a2 = hold(one, 'a2', { group: 'o/full', since: second + 1000, queuedAt: second + 1000 }, order);
    const b = hold(two, 'b', { group: 'o/other', since: second + 2000, queuedAt: second + 2000 }, order);
    await until(() => order.length === 2);
    expect(order).toEqual(['a1', 'b']);
    a1.release();
    await until(() => order.length === 3);
    expect(order).toEqual(['a1', 'b', 'a2']);
    a2.release();
    b.release();
    await Promise.all([a1.ran, a2.ran, b.ran]);
  });
});
