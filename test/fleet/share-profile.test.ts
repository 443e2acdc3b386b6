/**
 * A fleet's dashboards: what one process's profile records reaches the others through one Redis
 * stream, its records of a quarter second together in one entry (one command for the writer, one
 * wake-up for each reader), not one entry per record. A real Redis server.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { Profile } from '../../src/profile/profile.js';
import { shareProfile } from '../../src/profile/share-profile.js';
import { redisForFile } from '../support/redis-for-file.js';

const redis = redisForFile();
const REPO = 'octo/widgets';
const log = { debug: () => undefined } as never;
const stops: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const stop of stops) await stop();
});

async function fleetProcess(): Promise<Profile> {
  const profile = new Profile({ load: new Scheduler({ globalCap: 2 }), webBase: 'https://github.com' });
  const shared = await shareProfile(redis.url(), redis.connect(), profile, log);
  stops.push(() => shared.stop());
  return profile;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the fleet\'s shared profile', () => {
  it('sends a burst of records as one stream entry, and another process shows every one of them', async () => {
    const [worker, web] = [await fleetProcess(), await fleetProcess()];
    const stream = new Redis(redis.url());
    try {
      for (let issue = 1; issue <= 40; issue++) worker.record({ repo: REPO, issue, type: 'seen', title: `Issue ${issue}` });
      await until('the web process to show all 40 issues', () => Array.from({ length: 40 }, (_, i) => web.run(REPO, i + 1)).every(Boolean));
      expect(web.run(REPO, 40)).toMatchObject({ title: 'Issue 40' });
      expect(await stream.xlen('agent-mapreduce:profile')).toBe(1);

      // a record after that batch went out goes in the next one
      worker.record({ repo: REPO, issue: 41, type: 'seen', title: 'Issue 41' });
      await until('the web process to show issue 41', () => web.run(REPO, 41) !== undefined);
      expect(await stream.xlen('agent-mapreduce:profile')).toBe(2);
    } finally {
      stream.disconnect();
    }
  });

  it('sends what waits at once when the process stops, rather than losing its last quarter second', async () => {
    const web = await fleetProcess();
    const profile = new Profile({ load: new Scheduler({ globalCap: 2 }), webBase: 'https://github.com' });
    const shared = await shareProfile(redis.url(), redis.connect(), profile, log);
    const stream = new Redis(redis.url());
    try {
      const before = await stream.xlen('agent-mapreduce:profile');
      profile.record({ repo: REPO, issue: 99, type: 'seen', title: 'Recorded just before a shutdown' });
      await shared.stop();
      // sent by the time stop resolved, not a quarter second later
      expect(await stream.xlen('agent-mapreduce:profile')).toBe(before + 1);
      await until('the web process to show the last record', () => web.run(REPO, 99) !== undefined);
      expect(web.run(REPO, 99)).toMatchObject({ title: 'Recorded just before a shutdown' });
    } finally {
      stream.disconnect();
    }
  });
});
