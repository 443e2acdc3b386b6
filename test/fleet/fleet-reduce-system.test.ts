/**
 * A fleet of two app processes sharing one Redis (REDIS_URL), against the local GitHub: reduce passes
 * of one base never run at once across the fleet. The processes, Redis and BullMQ are the real ones.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const REPO = 'octo-org/fleet';
let redis: RedisServer;
let system: System;
let second: AppProcess;
let secondDir: string;

beforeAll(async () => {
  redis = await startRedis();
  system = await startSystem({ env: { REDIS_URL: redis.url } });
  secondDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-second-'));
  second = await startAppProcess({
    cwd: secondDir, env: { ...system.github.appEnv(), WORK_DIR: path.join(secondDir, 'work'), ANTHROPIC_API_KEY: 'sk-ant-local', REDIS_URL: redis.url },
  });
});

afterAll(async () => {
  await second?.kill('SIGKILL');
  await system?.stop();
  await redis?.stop();
  await rm(secondDir, { recursive: true, force: true });
});

describe('a fleet of two processes on one Redis', () => {
  it('never merges on one base from two processes at once, even when each gets an approval', async () => {
    const { github } = system;
    await github.createRepository(REPO, { 'README.md': '# Fleet\n', '.github/agent-mapreduce.yml': 'reduce:\n  requireChecks: false\n' });
    github.grant(REPO, 'maintainer', 'write');
    const pulls: number[] = [];
    for (const name of ['a', 'b', 'c']) {
      const branch = `agent/issue-${pulls.length + 100}-add-${name}`;
      await github.commit(REPO, branch, { [`${name}.txt`]: `${name}\n` }, `Add ${name}`, { from: 'main' });
      pulls.push(await github.openPull(REPO, { head: branch, title: `Add ${name}`, by: 'agent-mapreduce[bot]' }));
    }
    // every merge is held a while in GitHub, and the merges under way are counted
    let merging = 0;
    let most = 0;
    github.faults.add({ operation: 'pulls/merge', kind: 'delay', ms: 800, times: 10 });
    github.onCall = (call, at) => {
      if (call.operation !== 'pulls/merge') return;
      merging += at === 'before' ? 1 : -1;
      most = Math.max(most, merging);
    };

    // the approvals reach different processes, as behind a load balancer: both trigger a pass of main
    const urls = [system.app.webhookUrl, second.webhookUrl];
    for (const [i, n] of pulls.entries()) {
      github.webhooks.url = urls[i % 2];
      github.review(REPO, n, { state: 'APPROVED', body: 'ok' });
    }
    await waitUntil('all three PRs to merge', () => pulls.every((n) => github.issue(REPO, n).pull!.merged), 60_000);

    expect(most).toBe(1);
    expect(github.callsOf('pulls/merge').filter((c) => c.status === 200)).toHaveLength(3);
    // the passes came from the shared queue (whichever process took them)
    expect(system.app.output() + second.output()).toContain('"fleet":true');
    github.onCall = undefined;
    github.faults.clear();
    expect(github.problems).toEqual([]);
  });
});
