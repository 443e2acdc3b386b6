/**
 * The fleet's one line for its slots: jobs waiting in different processes take a freed slot in
 * priority, then label-time, order, as they would in one process. Three app processes share one
 * Redis with a fleet cap of one agent; the processes, Redis and BullMQ are the real ones. The third
 * starts late: its start-up reconcile leaves the issues the others run to them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { waitUntil, type System } from '../support/app-on-local-github.js';
import type { AppProcess } from '../support/app-process.js';
import { startFleet, type TestFleet } from '../support/fleet.js';
import { gate } from '../support/gate.js';
import { editLine, isTurnOf, startScriptedModel, turnTimes } from '../support/scripted-model.js';

const REPO = 'octo-org/fleet-order';
const held = gate();
let fleet: TestFleet;
let system: System;
let second: AppProcess;
let line: Redis;

beforeAll(async () => {
  // the first agent holds the fleet's one slot until the test lets its first turn be answered
  const model = await startScriptedModel({ beforeReply: (request) => (isTurnOf(request, REPO, 'alpha') ? held.promise : Promise.resolve()) });
  fleet = await startFleet({ model, env: { MAX_AGENTS: '1' }, others: [{}] });
  [system, second, line] = [fleet.system, fleet.others[0]!, fleet.state];
});

afterAll(async () => {
  held.open();
  await fleet?.stop();
});

describe('a fleet of three processes with one slot', () => {
  it('gives the freed slot to the priority issue waiting in one process before the earlier issue waiting in another, and a process started later leaves the issues the others run or have queued to them', async () => {
    const { github, model } = system;
    const repo = REPO;
    await github.createRepository(repo, { 'a.txt': 'alpha\n', 'b.txt': 'beta\n', 'c.txt': 'gamma\n', 'd.txt': 'four\n' });
    github.grant(repo, 'maintainer', 'write');
    const first = github.openIssue(repo, { title: 'Alpha', body: editLine('a.txt', 'alpha', 'omega') });
    const earlier = github.openIssue(repo, { title: 'Beta', body: editLine('b.txt', 'beta', 'delta') });
    const urgent = github.openIssue(repo, { title: 'Gamma', body: editLine('c.txt', 'gamma', 'epsilon') });
    const later = github.openIssue(repo, { title: 'Delta', body: editLine('d.txt', 'four', 'zeta') });

    // the first agent holds the fleet's one slot while it works
    github.webhooks.url = system.app.webhookUrl;
    github.label(repo, first, 'agent');
    await waitUntil('the first agent to work', () => turnTimes(model, repo, 'alpha').length > 0);

    // then an issue asked of the second process: it waits in the fleet's line
    github.webhooks.url = second.webhookUrl;
    github.label(repo, earlier, 'agent');
    await waitUntil('a job in the fleet\'s line', async () => (await line.zcard('agent-mapreduce:slots-line')) === 1);
    // and one more, which waits in that process's queue without its lock yet (only a started job holds one)
    github.label(repo, later, 'agent');
    await waitUntil('a job queued in the second process', async () => (await line.zcard('agent-mapreduce:queued')) === 1);
    // a third process starts: its reconcile leaves the issues the others run or have queued to them
    const third = await system.startAnother({ LOG_LEVEL: 'debug' });
    await waitUntil('the third process to reconcile', () => third.output().includes('"msg":"reconciled"'));
    expect(third.output()).toContain('"queued":[],"cancelled":[],"msg":"reconciled"');
    // a priority issue asked of the third process waits in the fleet's line too
    github.webhooks.url = third.webhookUrl;
    github.label(repo, urgent, 'agent:priority');
    github.label(repo, urgent, 'agent');
    await github.webhooks.settled();
    await waitUntil('two jobs in the fleet\'s line', async () => (await line.zcard('agent-mapreduce:slots-line')) === 2);
    held.open();

    await waitUntil('all four PRs', () => [first, earlier, urgent, later].every((n) => github.pullsFor(repo, n).length === 1), 60_000);
    // from the model's record: when each agent's conversation began
    const began = (from: string) => Math.min(...turnTimes(model, repo, from));
    expect(began('alpha')).toBeLessThan(began('gamma'));
    expect(began('gamma')).toBeLessThan(began('beta'));
    expect(began('beta')).toBeLessThan(began('four'));
    expect(third.output()).not.toContain('another process of the fleet runs this issue');
    expect(github.problems).toEqual([]);
  });
});
