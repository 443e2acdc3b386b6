/**
 * The fleet's line for its slots, on a real Redis server: two FleetSlots on their own connections
 * stand for two processes of a fleet.
 */
import { describe, expect, it } from '@jest/globals';
import { FleetSlots } from '../../src/jobs/fleet-slots.js';
import { waitUntil } from '../support/app-on-local-github.js';
import { gate } from '../support/gate.js';
import { redisForFile } from '../support/redis-for-file.js';

const redis = redisForFile();

async function processSlots(cap: number): Promise<FleetSlots> {
  return FleetSlots.start(redis.url(), await redis.connect(), cap, 30_000);
}

/** Jobs that want their slot at once, each noted in `order` when it has one and holding it until released. */
function jobs(order: string[]) {
  const held = new Map<string, { release(): void; ran: Promise<void> }>();
  return {
    hold(slots: FleetSlots, name: string, job: { group: string; since: number; queuedAt: number }) {
      const done = gate();
      const ran = slots.run({ groupCap: 1, priority: 0, ...job }, () => done.promise, {
        signal: new AbortController().signal, wanted: Promise.resolve(), taken: () => order.push(name), released: new Promise(() => undefined),
      });
      held.set(name, { release: done.open, ran });
    },
    /** Lets `name` give its slot back, and waits until the next job has taken one. */
    async release(name: string) {
      const taken = order.length;
      held.get(name)!.release();
      if (order.length < held.size) await waitUntil('the next job to take the slot', () => order.length > taken);
    },
    async all() {
      for (const job of held.values()) job.release();
      await Promise.all([...held.values()].map((job) => job.ran));
    },
  };
}

describe('FleetSlots', () => {
  it('gives freed slots to jobs labelled in the same second in the order they were queued, whichever process holds them', async () => {
    const processes = [await processSlots(1), await processSlots(1)];
    const order: string[] = [];
    const line = jobs(order);
    const second = 1_796_000_000_000; // label times are whole seconds
    line.hold(processes[0]!, 'first', { group: 'o/a', since: second, queuedAt: second });
    await waitUntil('the first job to take the one slot', () => order.length === 1);
    // five more, asked of the two processes in turn, each queued before the one asked before it
    const waiting = ['q5', 'q4', 'q3', 'q2', 'q1'];
    waiting.forEach((name, i) => line.hold(processes[i % 2]!, name, { group: `o/${name}`, since: second, queuedAt: second + 500 - i * 100 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(order).toEqual(['first']);

    for (const name of ['first', 'q1', 'q2', 'q3', 'q4']) await line.release(name);
    expect(order).toEqual(['first', 'q1', 'q2', 'q3', 'q4', 'q5']);
    await line.all();
  });

  it('lets a waiter whose repository is full hold up nobody', async () => {
    const processes = [await processSlots(2), await processSlots(2)];
    const order: string[] = [];
    const line = jobs(order);
    const second = 1_796_000_100_000;
    line.hold(processes[0]!, 'a1', { group: 'o/full', since: second, queuedAt: second });
    await waitUntil('the first job to take a slot', () => order.length === 1);
    // a2 is first in line but its repository (cap 1) is full; b, behind it, takes the free slot
    line.hold(processes[0]!, 'a2', { group: 'o/full', since: second + 1000, queuedAt: second + 1000 });
    line.hold(processes[1]!, 'b', { group: 'o/other', since: second + 2000, queuedAt: second + 2000 });
    await waitUntil('b to take the free slot', () => order.length === 2);
    expect(order).toEqual(['a1', 'b']);
    await line.release('a1');
    expect(order).toEqual(['a1', 'b', 'a2']);
    await line.all();
  });
});
