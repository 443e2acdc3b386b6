/**
 * Locality in a fleet: a web process routes a repository's deliveries to the worker that already holds
 * its clone, unless that worker has more than its fair share of the fleet's cap (MAX_AGENTS over the
 * live workers) beyond the least loaded one; then the least loaded worker takes the work and clones the
 * repository too. Two workers, a fleet cap of two (so a fair share of one); the processes, Redis and
 * BullMQ are the real ones, and what the test looks at is the clones each worker holds on its disk.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitUntil, type System } from '../support/app-on-local-github.js';
import type { AppProcess } from '../support/app-process.js';
import { startFleet, type TestFleet } from '../support/fleet.js';
import { gate } from '../support/gate.js';
import { editLine, startScriptedModel } from '../support/scripted-model.js';

const held = gate();
let fleet: TestFleet;
let system: System;
let workers: AppProcess[];

beforeAll(async () => {
  // every agent waits until the test has labelled all issues, so that no worker's load drops meanwhile
  const model = await startScriptedModel({ beforeReply: () => held.promise });
  fleet = await startFleet({ model, env: { MAX_AGENTS: '2', ROLE: 'web' }, others: [{ ROLE: 'worker' }, { ROLE: 'worker' }] });
  ({ system, others: workers } = fleet);
});

afterAll(async () => {
  held.open();
  await fleet?.stop();
});

/** The workers' loads as Redis holds them: jobs queued or running (`<worker>`), and deliveries routed but not yet handled (`<worker>:pending`). */
async function loads(): Promise<{ jobs: number; pending: number }> {
  const fields = Object.entries(await fleet.state.hgetall('agent-mapreduce:worker-load'));
  const sum = (which: (field: string) => boolean) => fields.filter(([k]) => which(k)).reduce((n, [, v]) => n + Number(v), 0);
  return { jobs: sum((k) => !k.includes(':')), pending: sum((k) => k.endsWith(':pending')) };
}

const hasClone = (worker: AppProcess, repo: string) => existsSync(path.join(worker.workDir!, 'repos', `${repo}.git`));

describe('a fleet of a web process and two workers', () => {
  it('sends a repository\'s work to the worker holding its clone, and to another once that one has more than its share', async () => {
    const { github } = system;
    const x = 'octo-org/locality-x';
    const y = 'octo-org/locality-y';
    await github.createRepository(x, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
    github.grant(x, 'maintainer', 'write');
    await waitUntil('both workers to be live', async () => (await fleet.state.zcard('agent-mapreduce:workers')) === 2);
    const asked: Array<{ repo: string; issue: number }> = [];
    // one label at a time, each routed once the fleet has counted the last one's job (and handled the deliveries of its writes)
    const label = async (repo: string, issue: number) => {
      asked.push({ repo, issue });
      github.label(repo, issue, 'agent');
      await waitUntil(`issue ${asked.length}'s job counted`, async () => {
        await github.webhooks.settled();
        const { jobs, pending } = await loads();
        return jobs === asked.length && pending === 0;
      });
    };
    for (const [title, file] of [['A', 'a.txt'], ['B', 'b.txt'], ['C', 'c.txt']] as const) {
      await label(x, github.openIssue(x, { title, body: editLine(file, file[0]!, title) }));
    }
    // a repository new to the fleet, once x's work is spread
    await github.createRepository(y, { 'd.txt': 'd\n', 'e.txt': 'e\n' });
    github.grant(y, 'maintainer', 'write');
    for (const [title, file] of [['D', 'd.txt'], ['E', 'e.txt']] as const) {
      await label(y, github.openIssue(y, { title, body: editLine(file, file[0]!, title) }));
    }
    held.open();
    await waitUntil('all five PRs', () => asked.every(({ repo, issue }) => github.pullsFor(repo, issue).length === 1), 60_000);

    // x's first two runs went to one worker (the second to its clone); the third found it over its
    // share and went to the other, which took y's runs as the least loaded and then as y's holder
    const [first, other] = hasClone(workers[0]!, y) ? [workers[1]!, workers[0]!] : [workers[0]!, workers[1]!];
    expect({ x: hasClone(first, x), y: hasClone(first, y) }).toEqual({ x: true, y: false });
    expect({ x: hasClone(other, x), y: hasClone(other, y) }).toEqual({ x: true, y: true });
    const ran = (worker: AppProcess) => worker.output().split('\n').filter((l) => l.includes('"msg":"issue run ended"')).length;
    await waitUntil('all five runs to end', () => ran(first) + ran(other) === 5);
    expect([ran(first), ran(other)]).toEqual([2, 3]);
    expect(system.app.output()).not.toContain('"msg":"issue run ended"');
    expect(github.problems).toEqual([]);
  });
});
