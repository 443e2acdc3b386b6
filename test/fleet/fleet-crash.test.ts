/**
 * A fleet's process killed with SIGKILL at a seeded point of a run, and started again, while another
 * process of the fleet shares its Redis: the dead process's issue locks and run slots lapse (here after
 * 2 s, REDIS_LOCK_TTL) and every labelled issue still ends with exactly one PR or one failure report.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueSettled, startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { editLine } from '../support/scripted-model.js';
import { seededRandom } from '../support/seeded-random.js';

const SEEDS = [7, 19, 31, 43, 59];
let redis: RedisServer;
let system: System;

beforeAll(async () => {
  redis = await startRedis();
  system = await startSystem({ env: { REDIS_URL: redis.url, REDIS_LOCK_TTL: '2s', MAX_AGENTS: '2' } });
  await system.startAnother();
});

afterAll(async () => {
  await system?.stop();
  await redis?.stop();
});

describe('a fleet process killed mid-run', () => {
  it.each(SEEDS)('seed %i: after SIGKILL and a restart, each issue has exactly one PR or one failure report', async (seed) => {
    const { github } = system;
    const random = seededRandom(seed);
    const repo = `octo-org/fleet-crash-${seed}`;
    await github.createRepository(repo, { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' });
    github.grant(repo, 'maintainer', 'write');
    github.webhooks.url = system.app.webhookUrl;

    const killAt = github.calls.length + 1 + Math.floor(random() * 24);
    const phase = random() < 0.5 ? 'before' : 'after';
    let killed = false;
    const victim = system.app;
    github.onCall = async (call, at) => {
      if (killed || call.index !== killAt || at !== phase) return;
      killed = true;
      github.webhooks.hold = true;
      await victim.kill('SIGKILL');
    };
    const issues = [
      github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') }),
      github.openIssue(repo, { title: 'Beta to gamma', body: editLine('b.txt', 'beta', 'gamma') }),
    ];
    for (const issue of issues) github.label(repo, issue, 'agent');

    const settled = (issue: number) => issueSettled(github, repo, issue);
    await waitUntil('the kill or both issues settled', () => killed || issues.every(settled));
    if (!killed) await victim.kill('SIGKILL');
    github.onCall = undefined;
    // started again: its reconcile asks for the issues once the dead process's locks have lapsed
    await system.restart();

    await waitUntil('both issues to settle after the restart', () => issues.every(settled), 45_000);
    await waitUntil('no worktree in use', async () => (await system.worktreesInUse()).length === 0, 15_000)
      .catch(async () => expect(await system.worktreesInUse()).toEqual([]));
    for (const issue of issues) {
      const failed = github.issue(repo, issue).labels.includes('agent:failed');
      expect({ issue, pulls: github.pullsFor(repo, issue).length }).toEqual({ issue, pulls: failed ? 0 : 1 });
      expect({ issue, statusComments: github.comments(repo, issue).filter((c) => c.viaApp).length }).toEqual({ issue, statusComments: failed ? 1 : 0 });
    }
    expect(github.problems).toEqual([]);
  });
});
