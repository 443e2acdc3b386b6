/**
 * A fleet split by role on one Redis: GitHub sends every webhook to a web process (ROLE=web), which
 * passes it on and runs nothing; a worker process (ROLE=worker) handles it as a single process would.
 * The processes, Redis and BullMQ are the real ones; the agent is the built-in one on the scripted model.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueSettled, startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import type { AppProcess } from '../support/app-process.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { editLine } from '../support/scripted-model.js';

const TOKEN = 'dashboard-token-0123456789';
let redis: RedisServer;
let system: System;
let worker: AppProcess;

beforeAll(async () => {
  redis = await startRedis();
  // GitHub's webhooks go to the first process, the web one
  system = await startSystem({ env: { REDIS_URL: redis.url, ROLE: 'web', DASHBOARD_TOKEN: TOKEN } });
  worker = await system.startAnother({ ROLE: 'worker' });
});

afterAll(async () => {
  await system?.stop();
  await redis?.stop();
});

const runsEnded = (output: string) => output.split('\n').filter((l) => l.includes('"msg":"issue run ended"'));

describe('a fleet of a web process and a worker', () => {
  it('runs a labelled issue in the worker from the delivery the web process received, and merges its approved PR there', async () => {
    const { github } = system;
    const repo = 'octo-org/roles';
    await github.createRepository(repo, { 'a.txt': 'alpha\n', '.github/agent-mapreduce.yml': 'reduce:\n  requireChecks: false\n' });
    github.grant(repo, 'maintainer', 'write');
    const issue = github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') });
    expect(github.webhooks.url).toBe(system.app.webhookUrl);

    github.label(repo, issue, 'agent');
    await waitUntil('the PR', () => issueSettled(github, repo, issue), 60_000);
    const [pull] = github.pullsFor(repo, issue);
    expect(await github.readFile(repo, pull!.pull!.head, 'a.txt')).toBe('omega\n');
    // the run logs its end just after its last label: the worker's output is read as it comes
    await waitUntil('the worker to log the run\'s end', () => runsEnded(worker.output()).length > 0);
    expect(runsEnded(worker.output())).toHaveLength(1);
    expect(runsEnded(system.app.output())).toEqual([]);

    // the approval, too, reaches the worker through the web process: the reduce pass merges there
    github.review(repo, pull!.number, { state: 'APPROVED', body: 'ok' });
    await waitUntil('the merge', () => github.issue(repo, pull!.number).pull!.merged, 60_000);
    expect(await github.readFile(repo, 'main', 'a.txt')).toBe('omega\n');
    // GitHub was answered 2xx for every delivery: none waits for a redelivery
    await github.webhooks.settled();
    expect(github.webhooks.deliveries.filter((d) => d.outcome !== 'delivered').map((d) => `${d.name} ${d.outcome} ${d.status}`)).toEqual([]);
    expect(github.problems).toEqual([]);

    // the web process ran nothing, yet its dashboard shows the run the worker recorded, up to the merge
    const page = async () => {
      const response = await fetch(`${system.app.url}/agent-mapreduce/runs/${repo}/${issue}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return response.status === 200 ? response.text() : '';
    };
    const shown = await waitUntil('the web dashboard to show the merged run', async () => {
      const html = await page();
      return html.includes('data-stage="merged"') ? html : undefined;
    });
    expect(shown).toContain('Alpha to omega');
    expect(shown).toContain(`#${pull!.number}`);
  });

  it('labels each process\'s /metrics with its role', async () => {
    const roles = await Promise.all([system.app, worker].map(async (app) => {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('agent_mapreduce_agent_slots'));
      return /role="([^"]+)"/.exec(line ?? '')?.[1];
    }));
    expect(roles).toEqual(['web', 'worker']);
  });

  it('refuses to start as a web or worker process without Redis, with the sentence to act on', async () => {
    const alone = await system.startAnother({ ROLE: 'web', REDIS_URL: '' }).then(
      () => 'started', (error: unknown) => String(error));
    expect(alone).toContain('ROLE=web needs REDIS_URL');
  });
});
