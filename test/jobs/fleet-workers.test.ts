/**
 * The fleet's routing of a repository's deliveries, on a real Redis server: FleetWorkers on their own
 * connections stand for the web process and two workers of a fleet.
 */
import { describe, expect, it } from '@jest/globals';
import { FleetWorkers } from '../../src/jobs/fleet-workers.js';
import { waitUntil } from '../support/app-on-local-github.js';
import { redisForFile } from '../support/redis-for-file.js';

const redis = redisForFile();

async function fleetWorkers(): Promise<FleetWorkers> {
  return new FleetWorkers(await redis.connect(), 30_000);
}

/** Waits until `worker` has said it lives, without routing anything meanwhile. */
async function joined(worker: string): Promise<void> {
  const client = await redis.connect();
  await waitUntil(`${worker} in the routing`, async () => (await client.eval("return redis.call('ZSCORE', KEYS[1], ARGV[1])", 1, 'agent-mapreduce:workers', worker)) !== null);
}

describe('FleetWorkers', () => {
  it('sends a repository to the worker holding its clone until that one has more than its fair share beyond the least loaded, then spreads it', async () => {
    const web = await fleetWorkers();
    // no live worker: whichever takes it from the shared queue
    expect(await web.route('octo/one', 4)).toBeUndefined();

    const a = (await fleetWorkers()).live('worker-a', () => 0);
    await joined('worker-a');
    expect(await web.route('octo/probe', 4)).toBe('worker-a');
    await a.handled();
    const b = (await fleetWorkers()).live('worker-b', () => 0);
    await joined('worker-b');
    // b holds no repository yet: of two equally loaded workers, the one holding fewer gets a new one
    expect(await web.route('octo/one', 4)).toBe('worker-b');

    // the cap of 4 over 2 workers is a share of 2: the holder keeps the repository up to 2 beyond a
    expect(await web.route('octo/one', 4)).toBe('worker-b');
    expect(await web.route('octo/one', 4)).toBe('worker-b');
    // b has 3 deliveries not yet handled, a none: the next goes to a, which holds the clone from then on
    expect(await web.route('octo/one', 4)).toBe('worker-a');

    // handled deliveries lower b's load, and of two holders the less loaded one gets the repository
    for (let i = 0; i < 3; i++) await b.handled();
    expect(await web.route('octo/one', 4)).toBe('worker-b');

    // a worker that leaves gets nothing more, even of the repositories it holds
    await b.stop();
    expect(await web.route('octo/one', 4)).toBe('worker-a');
    await a.stop();
    expect(await web.route('octo/one', 4)).toBeUndefined();
  });

  it('tells each worker, as it says it lives, how many workers the fleet has (its share of the cap follows from it)', async () => {
    const heard = { c: [] as number[], d: [] as number[] };
    const c = (await fleetWorkers()).live('worker-c', () => 0, (n) => heard.c.push(n));
    await waitUntil('c to hear the fleet', () => heard.c.length > 0);
    expect(heard.c).toEqual([1]);
    const d = (await fleetWorkers()).live('worker-d', () => 0, (n) => heard.d.push(n));
    await waitUntil('d to hear the fleet', () => heard.d.length > 0);
    expect(heard.d).toEqual([2]);
    // a change of c's jobs says it lives again, and hears of d
    c.changed();
    await waitUntil('c to hear of d', () => heard.c.includes(2));
    await d.stop();
    c.changed();
    await waitUntil('c to hear that d left', () => heard.c.at(-1) === 1);
    await c.stop();
  });
});
