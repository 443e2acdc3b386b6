/**
 * A fleet of two app processes sharing one Redis (REDIS_URL), against the local GitHub: reduce passes
 * of one base never run at once across the fleet, and an issue runs in one process only. The
 * processes, Redis and BullMQ are the real ones; the agent is the built-in one on the scripted model.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import type { AppProcess } from '../support/app-process.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { editLine, isTurnOf, turnTimes } from '../support/scripted-model.js';

const REPO = 'octo-org/fleet';
let redis: RedisServer;
let system: System;
let second: AppProcess;

beforeAll(async () => {
  redis = await startRedis();
  system = await startSystem({ env: { REDIS_URL: redis.url } });
  second = await system.startAnother();
});

afterAll(async () => {
  await system?.stop();
  await redis?.stop();
});

/** A repository of the local GitHub with these files, where `maintainer` may write. */
async function repository(name: string, files: Record<string, string>): Promise<string> {
  const repo = `octo-org/${name}`;
  await system.github.createRepository(repo, files);
  system.github.grant(repo, 'maintainer', 'write');
  return repo;
}

describe('a fleet of two processes on one Redis', () => {
  it('never merges on one base from two processes at once, even when each gets an approval', async () => {
    const { github } = system;
    await repository('fleet', { 'README.md': '# Fleet\n', '.github/agent-mapreduce.yml': 'reduce:\n  requireChecks: false\n' });
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

  it('runs an issue in one process only, when both are asked for it', async () => {
    const { github, model } = system;
    const repo = await repository('fleet-issue', { 'a.txt': 'alpha\n' });
    const issue = github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') });
    // the run that goes first stays in GitHub a while at its PR, so that the other process is asked meanwhile
    github.faults.add({ operation: 'pulls/create', kind: 'delay', ms: 1500, times: 1 });
    github.webhooks.url = system.app.webhookUrl;
    github.label(repo, issue, 'agent');
    const labelled = github.webhooks.deliveries.at(-1)!;
    github.webhooks.url = second.webhookUrl;
    await github.webhooks.redeliver(labelled);

    await waitUntil('the other process to wait for the lock', () =>
      (system.app.output() + second.output()).includes('another process of the fleet runs this issue'));
    const pull = await waitUntil('the PR', () => github.pullsFor(repo, issue)[0]);
    expect(await github.readFile(repo, pull.pull!.head, 'a.txt')).toBe('omega\n');
    // the waiting job runs after the first and finds the PR open: nothing more to do
    const ended = () => (system.app.output() + second.output()).split('\n')
      .filter((l) => l.includes('"msg":"issue run ended"') && l.includes('"repo":"octo-org/fleet-issue"'));
    await waitUntil('both jobs to end', () => ended().length === 2);
    expect(ended().filter((l) => l.includes('"kind":"skipped"'))).toHaveLength(1);
    expect(github.pullsFor(repo, issue)).toHaveLength(1);
    // one agent run: one conversation opened with the issue's task
    const opened = model.requests.filter((r) => r.path.endsWith('/messages') && isTurnOf(r, repo, 'alpha') &&
      (r.body as { messages: unknown[] }).messages.length === 1);
    expect(opened).toHaveLength(1);
    github.faults.clear();
    expect(github.problems).toEqual([]);
  });

  it('stops a run from the process that was asked, when the run is in the other one', async () => {
    const { github } = system;
    const repo = await repository('fleet-stop', { 'a.txt': 'alpha\n' });
    const issue = github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') });
    // the run holds at its first look at the issue in GitHub, long enough to be stopped from elsewhere
    github.faults.add({ operation: 'issues/get', kind: 'delay', ms: 2_000, times: 1 });
    github.webhooks.url = system.app.webhookUrl;
    github.label(repo, issue, 'agent');
    await waitUntil('the run to start in the first process', () => github.faults.fired.includes('issues/get delay'));

    github.webhooks.url = second.webhookUrl;
    github.comment(repo, issue, '/agent stop');
    const status = await waitUntil('the run to say it was stopped', () =>
      github.comments(repo, issue).find((c) => c.viaApp && c.body.includes('Cancelled')));
    expect(status.body).toContain('Stopped by @maintainer.');
    // the process that was asked said nothing of its own: the run answered for itself
    expect(github.comments(repo, issue).filter((c) => c.viaApp && c.body.includes('nothing queued or running'))).toEqual([]);
    expect(github.pullsFor(repo, issue)).toEqual([]);
    expect(github.issue(repo, issue).labels).not.toContain('agent:working');
    github.faults.clear();
    expect(github.problems).toEqual([]);
  });

  it('holds a repository\'s map.concurrency across the fleet: two issues asked of two processes have their agents work one after the other', async () => {
    const { github } = system;
    const repo = await repository('fleet-cap', { 'a.txt': 'alpha\n', 'b.txt': 'beta\n', '.github/agent-mapreduce.yml': 'map:\n  concurrency: 1\n' });
    const issues = [
      github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') }),
      github.openIssue(repo, { title: 'Beta to gamma', body: editLine('b.txt', 'beta', 'gamma') }),
    ];
    // each run holds a second at its first look at its issue, so that two runs at once would overlap
    github.faults.add({ operation: 'issues/get', kind: 'delay', ms: 1_000, times: 2 });
    for (const [i, issue] of issues.entries()) {
      github.webhooks.url = i === 0 ? system.app.webhookUrl : second.webhookUrl;
      github.label(repo, issue, 'agent');
    }
    await waitUntil('both PRs', () => issues.every((n) => github.pullsFor(repo, n).length === 1), 60_000);

    // from the model's record: an agent's work spans its conversation, from its first request to its last
    // (a job gives its slot back when its agent is done, and pushes and opens its PR after)
    const span = (from: string) => {
      const times = turnTimes(system.model, repo, from);
      if (times.length === 0) throw new Error(`no model request for "${from}"`);
      return { start: Math.min(...times), end: Math.max(...times) };
    };
    const [first, next] = [span('alpha'), span('beta')].sort((a, b) => a.start - b.start) as [{ start: number; end: number }, { start: number; end: number }];
    expect(next.start).toBeGreaterThanOrEqual(first.end);
    github.faults.clear();
    expect(github.problems).toEqual([]);
  });

  it('tells its processes apart in /metrics with a worker label', async () => {
    const workers = await Promise.all([system.app, second].map(async (app) => {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('agent_mapreduce_agent_slots'));
      return /worker="([^"]+)"/.exec(line ?? '')?.[1];
    }));
    expect(workers.every((w) => w !== undefined && /-\d+$/.test(w))).toBe(true);
    expect(new Set(workers).size).toBe(2);
  });
});
