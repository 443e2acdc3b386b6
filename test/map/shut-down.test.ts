import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { shutDown } from '../../src/shut-down.js';
import { waitUntil } from '../support/app-on-local-github.js';
import { startMapHarness, type MapHarness } from '../support/map-harness.js';
import { ScriptedAgent, sleep, writeOneFile } from '../support/scripted-agent.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('graceful shutdown', () => {
  it('interrupts what is still running after the grace period, and the next start runs it again', async () => {
    const slow = new ScriptedAgent(async (request, n) => {
      await sleep(n === 1 ? 30 : 60_000, request.signal);
      return writeOneFile()(request, n);
    });
    harness = await startMapHarness({ agent: slow, maxAgents: 2 });
    const h = harness;
    for (const n of [1, 2, 3]) await h.labelIssue(n, `Job ${n}`);
    await waitUntil('two runs to start', () => slow.requests.length === 2);

    await shutDown(h.services, { graceMs: 300, log: pino({ level: 'silent' }) });

    expect(h.pulls().map((p) => p.head)).toEqual(['agent/issue-1-job-1']); // finished within the grace period
    // the interrupted and the queued one still show that they were taken; the next start reads that
    expect(h.issue(2).labels).toEqual(['agent', 'agent:working']);
    expect(h.issue(3).labels).toEqual(['agent', 'agent:working']);
    expect(h.comments(2)).toEqual([]);
    expect(await h.leftoverWorktrees()).not.toContain('octo-org/widgets/issue-2');

    // the next process: same GitHub, same remote, a fresh app whose reconcile finds the two
    const quick = new ScriptedAgent(writeOneFile());
    const { services, background } = await h.startAgain(quick);
    await background.pass();
    await services.scheduler.idle();
    await services.reduce.idle();
    background.stop();
    services.map.stop();

    expect(quick.requests.map((r) => /Resolve issue #(\d+)/.exec(r.task)![1]).sort()).toEqual(['2', '3']);
    expect(h.pulls().map((p) => p.head).sort()).toEqual(['agent/issue-1-job-1', 'agent/issue-2-job-2', 'agent/issue-3-job-3']);
    for (const n of [1, 2, 3]) expect(h.issue(n).labels).toEqual(['agent', 'agent:pr-opened']);
  });
});
