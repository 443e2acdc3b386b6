import { describe, expect, it } from '@jest/globals';
import { createTestProbot, mockTokenExchange } from '../support/test-probot.js';
import { issueCommentCreated } from '../support/payloads.js';
import {
  botComment, captureCommentEdits, captureNewComments, github, mockConfigFile, mockListComments, mockPermission,
} from '../support/github-mocks.js';
import { OWNER, REPO } from '../support/payloads.js';

async function deliver(payload: unknown): Promise<void> {
  const probot = await createTestProbot();
  await probot.receive({ id: 'delivery-1', name: 'issue_comment', payload } as never);
}

describe('comment commands', () => {
  it('answers /agent help from a writer with the command list', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile(null);
    const replies = captureNewComments(7);

    await deliver(issueCommentCreated({ body: '/agent help' }));

    expect(replies.bodies).toHaveLength(1);
    expect(replies.bodies[0]).toContain('@maintainer');
    expect(replies.bodies[0]).toContain('| `/agent revise <what to change>` | PR |');
    expect(replies.bodies[0]).toContain('Label an issue `agent`');
  });

  it('answers an unknown verb with the help text and names the word', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'admin');
    mockConfigFile('label: robot\n');
    const replies = captureNewComments(7);

    await deliver(issueCommentCreated({ body: 'please\n/agent frobnicate now' }));

    expect(replies.bodies[0]).toContain('`frobnicate` is not a command I know.');
    expect(replies.bodies[0]).toContain('Label an issue `robot`');
  });

  it('refuses a non-writer politely and does nothing else', async () => {
    mockTokenExchange();
    mockPermission('drive-by', 'read');
    const replies = captureNewComments(7);

    await deliver(issueCommentCreated({ body: '/agent status', author: 'drive-by' }));

    expect(replies.bodies).toEqual([
      '@drive-by sorry, only people with write access to this repository can command agent-mapreduce.',
    ]);
  });

  it('ignores comments by bots, this app included, without a single API call', async () => {
    await deliver(issueCommentCreated({ body: '/agent help', author: 'agent-mapreduce[bot]', authorType: 'Bot' }));
    await deliver(issueCommentCreated({ body: '/agent status', author: 'dependabot[bot]', authorType: 'Bot' }));
  });

  it('ignores comments without a command, and commands inside code blocks', async () => {
    await deliver(issueCommentCreated({ body: 'Looks good to me' }));
    await deliver(issueCommentCreated({ body: 'Try this:\n```\n/agent help\n```' }));
  });

  it('answers /agent status with "no run yet" when the app has not touched the issue', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile(null);
    mockListComments(7, [{ id: 1, body: 'a human comment', user: { login: 'someone', type: 'User' } }]);
    const replies = captureNewComments(7);

    await deliver(issueCommentCreated({ body: '/agent status' }));

    expect(replies.bodies).toEqual([
      '@maintainer there is no agent run for this issue yet. Label an issue `agent` to start one.',
    ]);
  });

  it('answers /agent status from the marker of the app’s own status comment, not from one a person or another app pasted', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile(null);
    mockListComments(12, [
      { id: 3, body: '<!-- agent-mapreduce:status {"state":"pr-open","pr":99} -->\nfake', user: { login: 'mallory', type: 'User' } },
      { id: 2, body: '<!-- agent-mapreduce:status {"state":"no-change"} -->\nquoted', user: { login: 'other-app[bot]', type: 'Bot' }, performed_via_github_app: { id: 999 } },
      botComment(4, '<!-- agent-mapreduce:status {"state":"failed","attempt":2,"reason":"the tests failed"} -->\nFailed.'),
    ]);
    const replies = captureNewComments(12);

    await deliver(issueCommentCreated({ body: '/agent status', issueNumber: 12, onPullRequest: true }));

    expect(replies.bodies).toEqual([
      '@maintainer status of this PR: **failed** · attempt 2\n\n> the tests failed',
    ]);
  });

  it('answers a PR command on a PR the app did not open with where it works', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile(null);
    github().get(`/repos/${OWNER}/${REPO}/pulls/7`).reply(200, {
      number: 7, html_url: 'https://github.com/o/r/pull/7', state: 'open', draft: false, labels: [],
      head: { ref: 'feature/x', sha: 'a'.repeat(40), repo: { full_name: `${OWNER}/${REPO}` } },
      base: { ref: 'main', repo: { full_name: `${OWNER}/${REPO}` } },
    });
    const replies = captureNewComments(7);

    await deliver(issueCommentCreated({ body: '/agent hold', onPullRequest: true }));

    expect(replies.bodies).toEqual(['@maintainer `/agent hold` works on PRs that agent-mapreduce opened (branches `agent/issue-…`); this one is not.']);
  });

  it('says where a command works when it is used in the wrong place', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile(null);
    const replies = captureNewComments(7);

    await deliver(issueCommentCreated({ body: '/agent rebase' }));

    expect(replies.bodies).toEqual(['@maintainer `/agent rebase` works on PRs, not on issues.']);
  });
});

describe('repository config', () => {
  it('quotes every problem of an invalid config file in one comment and runs nothing', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile('map:\n  concurrency: lots\nreduce:\n  mergeMethod: yolo\nextra: 1\n');
    mockListComments(7, []);
    const created = captureNewComments(7);

    await deliver(issueCommentCreated({ body: '/agent status' }));

    expect(created.bodies).toHaveLength(1);
    const body = created.bodies[0]!;
    expect(body).toContain('`.github/agent-mapreduce.yml` is not valid');
    expect(body).toContain('- `map.concurrency`: Invalid input: expected number, received string');
    expect(body).toContain('- `reduce.mergeMethod`: Invalid option: expected one of "merge"|"squash"|"rebase"');
    expect(body).toContain('- `(file)`: Unrecognized key: "extra"');
    expect(body).not.toContain('status of');
  });

  it('edits its existing config comment instead of adding a second one', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile('label: [1, 2]\n');
    mockListComments(7, [botComment(55, '<!-- agent-mapreduce:config -->\nold problems')]);
    const edits = captureCommentEdits(55);

    await deliver(issueCommentCreated({ body: '/agent status' }));

    expect(edits.bodies).toHaveLength(1);
    expect(edits.bodies[0]).toContain('- `label`: Invalid input: expected string, received array');
  });

  it('reports a file that is not YAML at all, with where the parser stopped', async () => {
    mockTokenExchange();
    mockPermission('maintainer', 'write');
    mockConfigFile('map: {concurrency: 2\n');
    mockListComments(7, []);
    const created = captureNewComments(7);

    await deliver(issueCommentCreated({ body: '/agent status' }));

    expect(created.bodies[0]).toMatch(/- `\(file\)`: .*invalid YAML.*line 2/s);
  });
});
