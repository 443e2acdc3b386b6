import { afterEach, describe, expect, it } from '@jest/globals';
import type { WriteLimits } from '../../src/github/write-budget.js';
import { SecondaryLimit } from '../support/local-github/secondary-limit.js';
import { startMapHarness, type MapHarness } from '../support/map-harness.js';
import { ScriptedAgent, writeOneFile } from '../support/scripted-agent.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

// GitHub's limits with time compressed: a "minute" of 400 ms and an "hour" of 3 s
const GITHUB = { perMinute: 3, perHour: 5, minuteMs: 400, hourMs: 3_000 };

/** Six issues labelled at once, under the local GitHub's secondary limit, with the app's budget as given. */
async function sixIssues(writeLimits: WriteLimits, limits = GITHUB): Promise<{ h: MapHarness; waitingSeen: number }> {
  harness = await startMapHarness({
    agent: new ScriptedAgent(writeOneFile()), maxAgents: 6, settings: { writeLimits },
    before: (github) => {
      github.secondaryLimit = new SecondaryLimit(limits);
    },
  });
  const h = harness;
  let waitingSeen = 0;
  // what /metrics says while the issues run
  const watch = setInterval(() => {
    void h.services.profile.metrics.registry.metrics().then((text) => {
      waitingSeen = Math.max(waitingSeen, Number(/^agent_mapreduce_github_writes_waiting (\d+)/m.exec(text)?.[1] ?? 0));
    });
  }, 25);
  try {
    for (let n = 1; n <= 6; n++) await h.labelIssue(n, `Task ${n}`);
    await h.idle();
  } finally {
    clearInterval(watch);
  }
  return { h, waitingSeen };
}

describe('the write budget under GitHub’s secondary limit', () => {
  it('keeps the app under it: six PRs where the window holds five, none refused, the wait shown in /metrics', async () => {
    // a margin under GitHub's numbers, as the defaults keep (450 of 500 an hour): wide enough here
    // that a slow request landing late in GitHub's window cannot tip it over
    const { h, waitingSeen } = await sixIssues({ perMinute: 2, perHour: 3, minuteMs: 400, hourMs: 3_000 });

    expect(h.pulls()).toHaveLength(6);
    expect(h.github.secondaryLimit!.refused).toBe(0);
    // the fourth PR waited for the first to leave the window (the app counts from when it sent each,
    // the local GitHub records when each arrived: a few milliseconds apart)
    const created = h.github.callsOf('pulls/create').map((c) => c.at);
    expect(created).toHaveLength(6);
    expect(created[3]! - created[0]!).toBeGreaterThanOrEqual(3_000 - 50);
    expect(waitingSeen).toBeGreaterThan(0);
  });

  it('without the budget, the same six are refused by GitHub: the limit is real', async () => {
    // an hour window of a minute here, so that however slowly the six run, they fall in one
    const { h } = await sixIssues({ perMinute: 1_000, perHour: 1_000 }, { ...GITHUB, hourMs: 60_000 });

    expect(h.github.secondaryLimit!.refused).toBeGreaterThan(0);
    expect(h.github.callsOf('pulls/create').some((c) => c.status === 403)).toBe(true);
  });
});
