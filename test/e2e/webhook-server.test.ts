import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { issueCommentCreated } from '../support/payloads.js';
import { captureNewComments, mockConfigFile, mockPermission } from '../support/github-mocks.js';
import { mockTokenExchange } from '../support/test-probot.js';
import { startApp, type RunningApp } from '../support/webhook-server.js';

describe('the app behind Probot’s HTTP server', () => {
  let app: RunningApp;
  beforeEach(async () => {
    app = await startApp();
  });
  afterEach(async () => {
    await app.stop();
  });

  it('answers a signed /agent help delivery with the help comment', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'maintain');
    mockConfigFile(null);
    const replies = captureNewComments(7);

    const response = await app.deliver('issue_comment', issueCommentCreated({ body: '/agent help' }));

    expect(response.status).toBe(200);
    expect(replies.bodies).toHaveLength(1);
    expect(replies.bodies[0]).toMatch(/^@maintainer \*\*agent-mapreduce commands\.\*\*/);
  });

  it('rejects a delivery with a bad signature with HTTP 400 and makes no API call', async () => {
    const response = await app.deliver('issue_comment', issueCommentCreated({ body: '/agent help' }), { secret: 'wrong' });

    expect(response.status).toBe(400);
  });

  it('answers the health ping', async () => {
    const response = await fetch(`${app.url}/ping`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('PONG');
  });
});
