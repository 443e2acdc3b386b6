import { describe, expect, it } from '@jest/globals';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { Profile } from '../../src/profile/profile.js';
import { metricValue, parsePrometheusText } from '../support/prometheus-text.js';

const REPO = 'octo/widgets';
const T0 = Date.UTC(2026, 10, 23, 12, 0);
const MINUTE = 60_000;

function setUp() {
  let now = T0;
  const scheduler = new Scheduler({ globalCap: 2 });
  const profile = new Profile({ load: scheduler, webBase: 'https://github.com', now: () => now });
  profile.follow(scheduler);
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    metricValue(parsePrometheusText(await profile.metrics.registry.metrics()), name, labels);
  /** Runs one scheduler job for the issue; the returned function ends it. */
  const run = (issue: number, work: 'map' | 'revision') => {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    scheduler.enqueue({ key: `${REPO}#${issue}`, work, group: REPO, groupCap: 2, priority: 0, since: 0, run: () => done });
    return async () => {
      finish();
      await scheduler.idle();
    };
  };
  return { profile, metric, run, at: (minutes: number) => (now = T0 + minutes * MINUTE) };
}

const phasesOf = (profile: Profile, issue: number) =>
  profile.lives().find((l) => l.issue === issue)!.spans.map((s) => [s.phase, (s.from - T0) / MINUTE, (s.to - T0) / MINUTE]);

describe('where an issue’s time goes', () => {
  it('splits a life with a hold, a CI wait and a revision round into phases that add up to its lead time', async () => {
    const { profile, metric, run, at } = setUp();
    const ref = { repo: REPO, issue: 7 };
    const pull = { pr: 8, url: 'https://github.com/octo/widgets/pull/8', base: 'main' };
    profile.record({ ...ref, type: 'seen', title: 'Make it teal' });
    profile.record({ ...ref, type: 'waiting', reason: 'waiting: 2 PRs await review (#3, #4) on `main`' });
    expect(profile.view().issues[0]).toMatchObject({ stage: 'queued', reason: 'waiting: 2 PRs await review (#3, #4) on `main`' });

    at(10);
    profile.record({ ...ref, type: 'waiting' });
    const finishMap = run(7, 'map');
    expect(profile.view().issues[0]).toMatchObject({ stage: 'running' });
    at(15);
    profile.record({ ...ref, type: 'pull', ...pull, opened: true, sha: 'a1a1a1a1', summary: 'Teal.', files: ['src/colours.txt'] });
    profile.record({ ...ref, type: 'ended', work: 'map', outcome: 'pr-opened' });
    await finishMap();
    profile.record({ ...ref, type: 'checks', pr: 8, sha: 'a1a1a1a1', state: 'pending' });
    at(20);
    profile.record({ ...ref, type: 'checks', pr: 8, sha: 'a1a1a1a1', state: 'passed' });
    at(50);
    profile.record({ ...ref, type: 'review', pr: 8, id: 1, author: 'alice', state: 'changes_requested' });
    const finishRevision = run(7, 'revision');
    at(58);
    profile.record({ ...ref, type: 'revised', pr: 8, sha: 'b2b2b2b2' });
    profile.record({ ...ref, type: 'ended', work: 'revision', outcome: 'revised' });
    await finishRevision();
    profile.record({ ...ref, type: 'checks', pr: 8, sha: 'b2b2b2b2', state: 'pending' });
    at(59);
    profile.record({ ...ref, type: 'checks', pr: 8, sha: 'a1a1a1a1', state: 'pending' }); // late news of the replaced head
    at(60);
    profile.record({ ...ref, type: 'checks', pr: 8, sha: 'b2b2b2b2', state: 'passed' });
    at(90);
    profile.record({ ...ref, type: 'review', pr: 8, id: 2, author: 'alice', state: 'approved' });
    at(93);
    profile.record({ ...ref, type: 'merged', pr: 8 });
    profile.record({ ...ref, type: 'merged', pr: 8 }); // the webhook says so too

    expect(phasesOf(profile, 7)).toEqual([
      ['queued', 0, 10], ['agent', 10, 15], ['ci', 15, 20], ['person', 20, 50], ['revising', 50, 58], ['ci', 58, 60], ['person', 60, 93],
    ]);
    expect(profile.lives()[0]).toMatchObject({ state: 'merged', start: T0, end: T0 + 93 * MINUTE });
    const seconds = { queued: 10, agent: 5, person: 63, revising: 8, ci: 7 };
    for (const [phase, minutes] of Object.entries(seconds)) {
      expect(await metric('agent_mapreduce_issue_phase_seconds_sum', { phase })).toBe(minutes * 60);
      expect(await metric('agent_mapreduce_issue_phase_seconds_count', { phase })).toBe(1);
    }
    expect(await metric('agent_mapreduce_issue_phase_seconds_sum')).toBe(93 * 60);

    const { headline } = profile.view();
    expect(headline.personShare).toBeCloseTo(63 / 93, 10);
    expect(headline.meanStretchMs).toBe(6.5 * MINUTE); // the map run (5 min), then the revision (8 min), each ended by a review
    expect(headline.ready).toBe(0);
    const timeline = profile.run(REPO, 7)!.timeline.map((e) => `${e.what}:${e.detail}`);
    expect(timeline).toEqual(expect.arrayContaining([
      'waiting:waiting: 2 PRs await review (#3, #4) on `main`', 'released:no longer held', 'checks:pending on a1a1a1a', 'checks:passed on b2b2b2b',
    ]));
    expect(timeline.filter((e) => e.startsWith('checks:'))).toHaveLength(4);
  });

  it('counts the time after a run that left no PR as a person’s, until the issue is queued again', async () => {
    const { profile, metric, run, at } = setUp();
    const ref = { repo: REPO, issue: 3 };
    const finishFirst = run(3, 'map');
    at(4);
    profile.record({ ...ref, type: 'ended', work: 'map', outcome: 'not-actionable', reason: 'Which teal?' });
    await finishFirst();
    at(30);
    expect(profile.lives()[0]).toMatchObject({ state: 'paused', end: T0 + 4 * MINUTE });
    const finishSecond = run(3, 'map');
    at(36);
    profile.record({ ...ref, type: 'pull', pr: 9, url: 'https://github.com/octo/widgets/pull/9', base: 'main', opened: true });
    await finishSecond();
    at(40);
    profile.record({ ...ref, type: 'merged', pr: 9 });

    expect(phasesOf(profile, 3)).toEqual([['agent', 0, 4], ['person', 4, 30], ['agent', 30, 36], ['person', 36, 40]]);
    expect(await metric('agent_mapreduce_issue_phase_seconds_sum')).toBe(40 * 60);
    expect(profile.view().headline.meanStretchMs).toBe(5 * MINUTE); // 4 min handed back without a PR, then 6 min ended by the merge
  });

  it('draws a life rebuilt after a restart from when its PR opened, but counts in /metrics only lives this process saw whole', async () => {
    const { profile, metric, at } = setUp();
    const ref = { repo: REPO, issue: 5 };
    profile.record({ ...ref, type: 'pull', pr: 6, url: 'https://github.com/octo/widgets/pull/6', base: 'main', openedAt: T0 - 120 * MINUTE });
    at(5);
    profile.record({ ...ref, type: 'merged', pr: 6 });
    expect(phasesOf(profile, 5)).toEqual([['person', -120, 5]]);
    expect(await metric('agent_mapreduce_issue_phase_seconds_count')).toBe(0);
    expect(await metric('agent_mapreduce_merges_total')).toBe(1);
  });

  it('shares the slots’ time between running and idle agents over the busy window', async () => {
    const { profile, run, at } = setUp();
    expect(profile.view().headline.busyShare).toBeUndefined();
    const finish = run(1, 'map'); // one of two slots from 0 to 30 min, then none until 60
    at(30);
    await finish();
    at(60);
    expect(profile.view().headline.busyShare).toBeCloseTo(0.25, 10);
  });
});
