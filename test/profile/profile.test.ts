import { describe, expect, it } from '@jest/globals';
import { emptyUsage } from '../../src/agents/agent.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { Profile } from '../../src/profile/profile.js';
import { metricValue, parsePrometheusText } from '../support/prometheus-text.js';

const REPO = 'octo/widgets';
const T0 = Date.UTC(2026, 10, 23, 12, 0);
const MINUTE = 60_000;

function setUp(options: { maxIssues?: number; maxTimeline?: number } = {}) {
  let now = T0;
  const scheduler = new Scheduler({ globalCap: 3 });
  const profile = new Profile({ load: scheduler, webBase: 'https://github.com', now: () => now, ...options });
  profile.follow(scheduler);
  return {
    scheduler,
    profile,
    at: (ms: number) => (now = T0 + ms),
    metric: async (name: string, labels: Record<string, string> = {}) => metricValue(parsePrometheusText(await profile.metrics.registry.metrics()), name, labels),
  };
}

/** Runs one scheduler job for the issue that finishes when `finish` is called. */
function runJob(scheduler: Scheduler, issue: number, work: 'map' | 'revision' = 'map') {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  scheduler.enqueue({ key: `${REPO}#${issue}`, work, group: REPO, groupCap: 3, priority: 0, since: 0, run: () => done });
  return async () => {
    finish();
    await scheduler.idle();
  };
}

describe('the profile', () => {
  it('follows one issue from queue to merge: the board stage, the timeline and every time metric', async () => {
    const { scheduler, profile, at, metric } = setUp();
    const ref = { repo: REPO, issue: 7 };
    profile.record({ ...ref, type: 'seen', title: 'Make it teal' });
    const finishMap = runJob(scheduler, 7);
    expect(profile.view().issues.map((i) => [i.issue, i.stage])).toEqual([[7, 'running']]);
    expect(profile.view()).toMatchObject({ slots: 3, running: 1, queued: 0 });
    for (const tool of ['read_file', 'read_file', 'read_file', 'edit_file']) profile.record({ ...ref, type: 'step', tool });
    profile.record({ ...ref, type: 'agent-used', work: 'map', usage: { ...emptyUsage(), turns: 4, inputTokens: 1000, outputTokens: 200, costUsd: 0.25 } });
    at(2 * MINUTE);
    profile.record({ ...ref, type: 'pull', pr: 8, url: 'https://github.com/octo/widgets/pull/8', base: 'main', opened: true });
    profile.record({ ...ref, type: 'ended', work: 'map', outcome: 'pr-opened' });
    await finishMap();
    expect(profile.view().issues[0]).toMatchObject({ stage: 'pr-open', pull: { number: 8 }, costUsd: 0.25, tokens: 1200, runs: 1 });

    at(32 * MINUTE);
    profile.record({ ...ref, type: 'review', pr: 8, id: 100, author: 'alice', state: 'changes_requested' });
    profile.record({ ...ref, type: 'review', pr: 8, id: 100, author: 'alice', state: 'changes_requested' }); // redelivered
    expect(profile.view().issues[0]!.stage).toBe('changes-requested');
    const finishRevision = runJob(scheduler, 7, 'revision');
    at(40 * MINUTE);
    profile.record({ ...ref, type: 'revised', pr: 8, sha: 'abcdef1234567' });
    profile.record({ ...ref, type: 'ended', work: 'revision', outcome: 'revised' });
    await finishRevision();
    expect(profile.view().issues[0]!.stage).toBe('pr-open');
    at(100 * MINUTE);
    profile.record({ ...ref, type: 'review', pr: 8, id: 101, author: 'alice', state: 'approved' });
    expect(profile.view().issues[0]!.stage).toBe('approved');
    at(103 * MINUTE);
    profile.record({ ...ref, type: 'merged', pr: 8 });
    profile.record({ ...ref, type: 'merged', pr: 8 }); // the reduce pass and the webhook both say so

    expect(profile.view().issues[0]).toMatchObject({ stage: 'merged', since: T0 + 103 * MINUTE, revisionRounds: 1 });
    expect(await metric('agent_mapreduce_review_wait_seconds_sum')).toBe(30 * 60);
    expect(await metric('agent_mapreduce_revision_turnaround_seconds_sum')).toBe(8 * 60);
    expect(await metric('agent_mapreduce_merge_wait_seconds_sum')).toBe(3 * 60);
    expect(await metric('agent_mapreduce_merge_wait_seconds_count')).toBe(1);
    expect(await metric('agent_mapreduce_revision_rounds_sum')).toBe(1);
    expect(await metric('agent_mapreduce_merges_total', { repository: REPO })).toBe(1);
    expect(await metric('agent_mapreduce_runs_total', { work: 'map', outcome: 'pr-opened' })).toBe(1);
    expect(await metric('agent_mapreduce_run_duration_seconds_sum', { work: 'map' })).toBe(2 * 60);
    expect(await metric('agent_mapreduce_runs_total', { work: 'revision', outcome: 'revised' })).toBe(1);
    expect(await metric('agent_mapreduce_tokens_total', { repository: REPO, kind: 'input' })).toBe(1000);
    expect(await metric('agent_mapreduce_cost_usd_total', { repository: REPO })).toBe(0.25);
    expect(await metric('agent_mapreduce_issues', { stage: 'merged' })).toBe(1);

    const timeline = profile.run(REPO, 7)!.timeline.map((e) => `${e.what}:${e.detail}${e.count > 1 ? ` ×${e.count}` : ''}`);
    expect(timeline).toEqual([
      'queued:map run', 'started:map run', 'step:read_file ×3', 'step:edit_file', 'used:4 turns, 1200 tokens, $0.2500', 'pr-opened:#8',
      'ended:map run: pr-opened', 'review:changes requested by @alice on #8', 'queued:revision run', 'started:revision run',
      'revised:new commit abcdef1 on #8', 'ended:revision run: revised', 'review:approved by @alice on #8', 'merged:#8',
    ]);
    expect(profile.view().busy.map((s) => [s.running, s.queued])).toEqual([[0, 1], [1, 0], [0, 0], [0, 1], [1, 0], [0, 0]]);
  });

  it('fills the board from what happened before a restart but does not count it again', async () => {
    const { profile, at, metric } = setUp();
    const ref = { repo: REPO, issue: 3 };
    profile.record({ ...ref, type: 'pull', pr: 4, url: 'https://github.com/octo/widgets/pull/4', base: 'main', openedAt: T0 - 120 * MINUTE });
    profile.record({ ...ref, type: 'review', pr: 4, id: 1, author: 'bob', state: 'approved', at: T0 - 60 * MINUTE });
    profile.record({ repo: REPO, issue: 5, type: 'seen', title: 'Broken', failed: true });
    profile.record({ repo: REPO, issue: 6, type: 'seen', title: 'Unknown' });

    const view = profile.view();
    expect(view.issues.map((i) => [i.issue, i.stage, i.since])).toEqual([[3, 'approved', T0 - 60 * MINUTE], [5, 'failed', T0]]);
    expect(view.reviewWaits).toEqual([{ repo: REPO, pr: 4, url: 'https://github.com/octo/widgets/pull/4', waitMs: 60 * MINUTE, at: T0 - 60 * MINUTE, waiting: false }]);
    expect(await metric('agent_mapreduce_review_wait_seconds_count')).toBe(0);

    at(5 * MINUTE);
    profile.record({ ...ref, type: 'merged', pr: 4 });
    expect(await metric('agent_mapreduce_merge_wait_seconds_sum')).toBe(65 * 60);
    expect(await metric('agent_mapreduce_issues', { stage: 'failed' })).toBe(1);
  });

  it('counts a conflict once however many passes flag it, and shows PRs still waiting for a first review', async () => {
    const { profile, at, metric } = setUp();
    const ref = { repo: REPO, issue: 9 };
    profile.record({ ...ref, type: 'pull', pr: 10, url: 'https://github.com/octo/widgets/pull/10', base: 'main', opened: true });
    profile.record({ ...ref, type: 'conflict', pr: 10, files: ['a.txt'], with: '#11', fresh: true });
    profile.record({ ...ref, type: 'conflict', pr: 10, files: ['a.txt'], with: '#11', fresh: false });
    expect(await metric('agent_mapreduce_conflicts_total', { repository: REPO })).toBe(1);
    expect(profile.view().issues[0]).toMatchObject({ stage: 'flagged', reason: 'Conflicts with #11: a.txt' });
    at(45 * MINUTE);
    expect(profile.view().reviewWaits).toEqual([expect.objectContaining({ pr: 10, waiting: true, waitMs: 45 * MINUTE })]);
    profile.record({ ...ref, type: 'conflict-cleared', pr: 10 });
    expect(profile.view().issues[0]!.stage).toBe('pr-open');
  });

  it('remembers a bounded number of issues and timeline entries, forgetting the least recently active first', () => {
    const { profile } = setUp({ maxIssues: 3, maxTimeline: 4 });
    for (let issue = 1; issue <= 5; issue++) profile.record({ repo: REPO, issue, type: 'seen', title: `Issue ${issue}` });
    expect([1, 2, 3, 4, 5].map((n) => profile.run(REPO, n) !== undefined)).toEqual([false, false, true, true, true]);
    for (const tool of ['a', 'b', 'c', 'd', 'e', 'f']) profile.record({ repo: REPO, issue: 3, type: 'step', tool });
    const run = profile.run(REPO, 3)!;
    expect(run.timeline.map((e) => e.detail)).toEqual(['c', 'd', 'e', 'f']);
    expect(run.dropped).toBe(2);
  });

  it('adds cost up by UTC day and counts GitHub and model requests with their errors', async () => {
    const { profile, at, metric } = setUp();
    const usage = (costUsd: number) => ({ ...emptyUsage(), costUsd });
    at(11 * 60 * MINUTE + 59 * MINUTE); // 23:59
    profile.record({ repo: REPO, issue: 1, type: 'agent-used', work: 'map', usage: usage(1.5) });
    at(12 * 60 * MINUTE + MINUTE); // 00:01 the next day
    profile.record({ repo: REPO, issue: 2, type: 'agent-used', work: 'map', usage: usage(0.5) });
    profile.record({ repo: REPO, issue: 3, type: 'agent-used', work: 'revision', usage: usage(0.25) });
    expect(profile.view().costByDay).toEqual([{ day: '2026-11-23', usd: 1.5 }, { day: '2026-11-24', usd: 0.75 }]);

    profile.githubRequest({ route: 'POST /repos/{owner}/{repo}/pulls', status: 201 });
    profile.githubRequest({ route: 'POST /repos/{owner}/{repo}/pulls', status: 502 });
    profile.githubRequest({ route: 'GET /repos/{owner}/{repo}/issues/{issue_number}', status: 0 });
    profile.modelRequest(200);
    profile.modelRequest(429);
    expect(await metric('agent_mapreduce_github_requests_total', { route: 'POST /repos/{owner}/{repo}/pulls' })).toBe(2);
    expect(await metric('agent_mapreduce_github_request_errors_total')).toBe(2);
    expect(await metric('agent_mapreduce_github_request_errors_total', { status: '0' })).toBe(1);
    expect(await metric('agent_mapreduce_model_requests_total')).toBe(2);
    expect(await metric('agent_mapreduce_model_request_errors_total', { status: '429' })).toBe(1);
  });
});
