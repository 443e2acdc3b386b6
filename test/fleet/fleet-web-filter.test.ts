/**
 * A fleet's web process passes on only the deliveries some handler acts on. GitHub sends an app much
 * more than that: every issue opened, every comment, and this app's own labels and comments coming
 * back. A web process with no worker (so that what it queued stays in Redis to be read), on a real
 * Redis with BullMQ's own queue.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import type { System } from '../support/app-on-local-github.js';
import { startFleet, type TestFleet } from '../support/fleet.js';
import { startScriptedModel } from '../support/scripted-model.js';

const REPO = 'octo-org/filtered';
const BOT = 'agent-mapreduce[bot]';
let fleet: TestFleet;
let system: System;

beforeAll(async () => {
  fleet = await startFleet({ model: await startScriptedModel(), env: { ROLE: 'web' }, others: [] });
  ({ system } = fleet);
});

afterAll(async () => {
  await fleet?.stop();
});

describe('a fleet\'s web process', () => {
  it('queues the deliveries a handler acts on, and answers the rest without queueing them', async () => {
    const { github } = system;
    await github.createRepository(REPO, { 'a.txt': 'a\n' });
    github.grant(REPO, 'maintainer', 'write');
    const issue = github.openIssue(REPO, { title: 'Something' }); // issues.opened: no handler
    github.label(REPO, issue, 'agent:working', BOT); // the app's own label coming back
    github.comment(REPO, issue, '⏳ Queued', BOT); // the app's own comment
    github.comment(REPO, issue, 'Looks good to me'); // a person's comment that is no command
    github.label(REPO, issue, 'agent'); // a person's label: acted on
    github.comment(REPO, issue, '/agent status'); // a person's command: acted on
    github.unlabel(REPO, issue, 'agent:working', BOT); // the app taking its own label off
    github.unlabel(REPO, issue, 'agent'); // a person's unlabel may stop a run: acted on
    await github.webhooks.settled();

    expect(github.webhooks.deliveries.map((d) => d.outcome)).toEqual(Array(8).fill('delivered'));
    const queue = new Queue('agent-mapreduce-events', { connection: { host: '127.0.0.1', port: Number(new URL(fleet.redis.url).port) } });
    try {
      const queued = (await queue.getWaiting()).map((job) => {
        const payload = job.data.payload as { action: string; sender: { login: string }; label?: { name: string }; comment?: { body: string } };
        return `${job.data.name}.${payload.action} by ${payload.sender.login}: ${payload.label?.name ?? payload.comment?.body}`;
      });
      expect(queued.sort()).toEqual([
        'issue_comment.created by maintainer: /agent status',
        'issues.labeled by maintainer: agent',
        'issues.unlabeled by maintainer: agent',
      ]);
    } finally {
      await queue.close();
    }
  });
});
