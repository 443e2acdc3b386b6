/**
 * A fleet's write budget on a real redis-server: two processes' budgets for one installation stay
 * together under the limit (windows compressed to a second so that the test runs in seconds).
 */
import { describe, expect, it } from '@jest/globals';
import { SharedWriteBudget } from '../../src/github/shared-write-budget.js';
import type { WriteKind } from '../../src/github/write-budget.js';
import { redisForFile } from '../support/redis-for-file.js';

const redis = redisForFile();

/** A budget as one process of the fleet holds it: its own connection to the shared Redis. */
async function processBudget(key: string, limits: { perMinute: number; perHour: number; minuteMs: number; hourMs: number }) {
  return new SharedWriteBudget(Promise.resolve(await redis.connect()), key, limits);
}

describe('a write budget shared by the processes of a fleet', () => {
  it('lets two processes together send no more than the limit in any window', async () => {
    const limits = { perMinute: 3, perHour: 100, minuteMs: 1_000, hourMs: 60_000 };
    const [a, b] = [await processBudget('writes:1', limits), await processBudget('writes:1', limits)];
    const started = Date.now();
    const went: number[] = [];
    await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 2 ? a : b).take('comment').then(() => went.push(Date.now() - started))));

    went.sort((x, y) => x - y);
    expect(went).toHaveLength(9);
    // any four writes span more than a window: never four in one second (slack for when this process sees them)
    for (let i = 0; i + 3 < went.length; i++) expect(went[i + 3]! - went[i]!).toBeGreaterThanOrEqual(900);
    // and no slower than the limit asks: three windows for nine writes
    expect(went.at(-1)!).toBeLessThan(3_000);
  });

  it('keeps installations apart, and sends a process\'s waiting merges before its comments', async () => {
    const limits = { perMinute: 1, perHour: 100, minuteMs: 500, hourMs: 60_000 };
    const budget = await processBudget('writes:2', limits);
    const other = await processBudget('writes:3', limits);
    const order: string[] = [];
    const kinds: WriteKind[] = ['comment', 'comment', 'pull', 'merge'];
    await Promise.all([
      ...kinds.map((kind, i) => budget.take(kind).then(() => order.push(`${kind}${i}`))),
      other.take('comment').then(() => order.push('other installation')),
    ]);
    expect(order.indexOf('other installation')).toBeLessThan(2);
    // all four wait for Redis's first answer, so they go strictly by kind
    expect(order.filter((w) => w !== 'other installation')).toEqual(['merge3', 'pull2', 'comment0', 'comment1']);
  });
});
