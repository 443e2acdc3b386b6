import { describe, expect, it } from '@jest/globals';
import { retryAfterMs } from '../../src/agents/retry-after.js';
import { RateLimitGate } from '../../src/jobs/rate-limit-gate.js';
import { Scheduler } from '../../src/jobs/scheduler.js';

describe('RateLimitGate', () => {
  it('halves the number of runs that may start while the model API is limited, and restores it after', async () => {
    const scheduler = new Scheduler({ globalCap: 6 });
    const gate = new RateLimitGate(scheduler);
    gate.limit(1000);
    expect(scheduler.globalCap).toBe(3);
    expect(gate.limited).toBe(true);
    gate.limit(1000);
    expect(scheduler.globalCap).toBe(3);
    gate.release();
    expect(scheduler.globalCap).toBe(6);
    expect(gate.limited).toBe(false);
  });

  it('never stops runs altogether', () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    new RateLimitGate(scheduler).limit(1000);
    expect(scheduler.globalCap).toBe(1);
  });

  it('reads how long to wait from retry-after-ms, retry-after seconds or date, else a minute', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '12' }))).toBe(12_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), Date.parse('2026-01-01T00:00:00Z'))).toBe(30_000);
    expect(retryAfterMs(new Headers())).toBe(60_000);
  });
});
