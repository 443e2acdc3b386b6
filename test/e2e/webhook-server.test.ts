import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LocalGitHub } from '../support/local-github/local-github.js';
import { issueCommentCreated } from '../support/payloads.js';
import { startApp, type RunningApp } from '../support/webhook-server.js';

const REPO = 'octo-org/widgets';

describe('the app behind Probot’s HTTP server', () => {
  let github: LocalGitHub;
  let app: RunningApp;
  beforeEach(async () => {
    github = await LocalGitHub.start();
    await github.createRepository(REPO, { 'README.md': '# Widgets\n' });
    github.grant(REPO, 'maintainer', 'write');
    app = await startApp(undefined, {}, { baseUrl: `${github.url}/api/v3`, privateKey: github.privateKey, secret: github.webhookSecret });
    github.webhooks.url = `${app.url}/api/github/webhooks`;
  });
  afterEach(async () => {
    await app.stop();
    await github.close();
    expect(github.problems).toEqual([]);
  });

  it('answers a signed /agent help delivery with the help comment', async () => {
    const issue = github.openIssue(REPO, { title: 'How does this work?', by: 'maintainer' });
    github.comment(REPO, issue, '/agent help', 'maintainer');
    await github.webhooks.settled();

    const delivered = github.webhooks.deliveries.find((d) => d.name === 'issue_comment');
    expect(delivered).toMatchObject({ outcome: 'delivered', status: 200 });
    const replies = github.callsOf('issues/create-comment').map((c) => String(c.body.body));
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/^@maintainer \*\*agent-mapreduce commands\.\*\*/);
  });

  it('rejects a delivery with a bad signature with HTTP 400 and makes no API call', async () => {
    const response = await app.deliver('issue_comment', issueCommentCreated({ body: '/agent help' }), { secret: 'wrong' });

    expect(response.status).toBe(400);
    expect(github.calls).toEqual([]);
  });

  it('answers the health ping', async () => {
    const response = await fetch(`${app.url}/ping`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('PONG');
  });
});
