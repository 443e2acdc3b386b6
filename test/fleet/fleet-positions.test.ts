/**
 * Places in line across a fleet: a queued issue's status counts the jobs queued in every process, not
 * only its own. Two app processes on one Redis with a fleet cap of one agent; the processes and Redis
 * are the real ones, and what the test reads is the issue's status comment on the local GitHub.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitUntil, type System } from '../support/app-on-local-github.js';
import type { AppProcess } from '../support/app-process.js';
import { startFleet, type TestFleet } from '../support/fleet.js';
import { gate } from '../support/gate.js';
import { editLine, startScriptedModel } from '../support/scripted-model.js';

const held = gate();
let fleet: TestFleet;
let system: System;
let second: AppProcess;

beforeAll(async () => {
  // no agent finishes until the test has seen every place in line
  const model = await startScriptedModel({ beforeReply: () => held.promise });
  fleet = await startFleet({ model, env: { MAX_AGENTS: '1' }, others: [{}] });
  [system, second] = [fleet.system, fleet.others[0]!];
});

afterAll(async () => {
  held.open();
  await fleet?.stop();
});

describe('a fleet of two processes with one slot', () => {
  it('shows a queued issue its place among the jobs queued in both processes', async () => {
    const { github } = system;
    const repo = 'octo-org/fleet-positions';
    const files = ['a', 'b', 'c', 'd', 'e'];
    await github.createRepository(repo, {
      ...Object.fromEntries(files.map((f) => [`${f}.txt`, `${f}\n`])),
      '.github/agent-mapreduce.yml': 'map:\n  statusComment: always\n',
    });
    github.grant(repo, 'maintainer', 'write');
    const [a, b, c, d, e] = files.map((f) => github.openIssue(repo, { title: f.toUpperCase(), body: editLine(`${f}.txt`, f, f.toUpperCase()) }));
    const status = (issue: number) => github.comments(repo, issue).filter((comment) => comment.viaApp).map((comment) => comment.body).join('\n');
    const waiting = () => fleet.state.zcard('agent-mapreduce:slots-line');

    // the first process: one agent at work, one run ready and waiting for the slot, one issue queued
    github.webhooks.url = system.app.webhookUrl;
    github.label(repo, a!, 'agent');
    github.label(repo, b!, 'agent');
    await waitUntil('a run waiting for the slot', async () => (await waiting()) === 1);
    github.label(repo, c!, 'agent');
    await waitUntil('the third issue to say where it is in line', () => status(c!).includes('in line'));
    expect(status(c!)).toContain('1st of 1 in line');

    // the second process: a run ready and waiting, then an issue queued behind the first process's
    github.webhooks.url = second.webhookUrl;
    github.label(repo, d!, 'agent');
    await waitUntil('two runs waiting for the slot', async () => (await waiting()) === 2);
    github.label(repo, e!, 'agent');
    await waitUntil('the fifth issue to say where it is in line', () => status(e!).includes('in line'));
    expect(status(e!)).toContain('2nd of 2 in line');

    held.open();
    await waitUntil('all five PRs', () => [a, b, c, d, e].every((n) => github.pullsFor(repo, n!).length === 1), 60_000);
    expect(github.problems).toEqual([]);
  });
});
