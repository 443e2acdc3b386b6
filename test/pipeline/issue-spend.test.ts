/**
 * An issue's spend against `agent.maxIssueCostUsd`: in one process, and shared by a fleet's processes
 * through a real redis-server (where a restarted process still knows it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectRedis, type RedisClient } from '../../src/jobs/connect-redis.js';
import { IssueSpend } from '../../src/pipeline/issue-spend.js';
import { RedisSpendStore } from '../../src/pipeline/redis-spend-store.js';
import { MemoryGitHub } from '../support/memory-github.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
const clients: RedisClient[] = [];
const github = new MemoryGitHub('octo-org', 'widgets');
const capped = { agent: { maxIssueCostUsd: 0.9 } };

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const client of clients) await client.quit();
  await redis?.stop();
});

/** One process's ledger on the fleet's Redis. */
function processSpend(): IssueSpend {
  const client = connectRedis(redis.url, { warn: () => undefined });
  void client.then((c) => clients.push(c));
  return new IssueSpend(new RedisSpendStore(client));
}

describe('the spend of an issue over all its runs', () => {
  it('gives each run what is left and refuses the next once the cap is reached, counting in whole micro-dollars', async () => {
    const spend = new IssueSpend();
    expect(await spend.refusal(github, 7, capped)).toBeUndefined();
    await spend.add(github, 7, 0.6);
    expect(await spend.left(github, 7, capped)).toBe(0.3);
    await spend.add(github, 7, 0.3); // 0.6 + 0.3 is 0.8999999999999999 in floating point
    expect(await spend.left(github, 7, capped)).toBe(0);
    expect(await spend.refusal(github, 7, capped)).toContain('This issue has spent $0.90 on 2 agent runs, which reaches its budget of $0.90');
    expect(await spend.left(github, 7, { agent: {} })).toBeUndefined();
    expect(await spend.refusal(github, 8, capped)).toBeUndefined();
  });

  it('adds up across the processes of a fleet and survives a restart of either', async () => {
    const [a, b] = [processSpend(), processSpend()];
    await a.add(github, 9, 0.6);
    await b.add(github, 9, 0.3);
    expect(await a.refusal(github, 9, capped)).toContain('$0.90 on 2 agent runs');
    const restarted = processSpend();
    expect(await restarted.left(github, 9, capped)).toBe(0);
    expect(await restarted.refusal(github, 10, capped)).toBeUndefined();
  });
});
