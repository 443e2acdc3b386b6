import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { LocalGitHub } from '../support/local-github/local-github.js';
import { createTestProbot, testSettings } from '../support/test-probot.js';

/**
 * The comment handler on the local GitHub: each test gets a repository of its own (with the config file
 * it needs) and a fresh app, and reads what the app answered on GitHub.
 */
let github: LocalGitHub;
beforeAll(async () => {
  github = await LocalGitHub.start();
});
afterAll(() => github.close());
afterEach(() => {
  expect(github.problems).toEqual([]);
});

let repositories = 0;

interface Repo {
  name: string;
  /** Someone comments on issue (or PR) `number`; the app gets the webhook and handles it. */
  say(number: number, body: string, by?: string): Promise<void>;
  /** The bodies of the comments the app created on `number`, in order. */
  replies(number: number): string[];
  /** The bodies the app edited comments to, in order. */
  edits(commentId: number): string[];
}

/** Issues 1 to `issues` (7 by default) exist; `config` is the repository's `.github/agent-mapreduce.yml`. */
async function repository({ config, issues = 7 }: { config?: string; issues?: number } = {}): Promise<Repo> {
  const name = `octo-org/widgets-${++repositories}`;
  await github.createRepository(name, { 'README.md': '# Widgets\n', ...(config ? { '.github/agent-mapreduce.yml': config } : {}) });
  github.grant(name, 'maintainer', 'write');
  github.grant(name, 'drive-by', 'read');
  for (let n = 1; n <= issues; n++) github.openIssue(name, { title: `Issue ${n}`, by: 'reporter' });
  const probot = await createTestProbot(testSettings(), {}, { baseUrl: `${github.url}/api/v3`, privateKey: github.privateKey });
  const callsTo = (operation: string, path: string) => github.callsOf(operation).filter((c) => c.path === `/repos/${name}${path}`);
  return {
    name,
    async say(number, body, by = 'maintainer') {
      const from = github.webhooks.deliveries.length;
      github.comment(name, number, body, by);
      for (const { id, name: event, payload } of github.webhooks.deliveries.slice(from)) {
        await probot.receive({ id, name: event, payload } as never);
      }
    },
    replies: (number) => callsTo('issues/create-comment', `/issues/${number}/comments`).map((c) => String(c.body.body)),
    edits: (commentId) => callsTo('issues/update-comment', `/issues/comments/${commentId}`).map((c) => String(c.body.body)),
  };
}

/** A branch with a commit of its own, and a PR from it at `number`. */
async function pullFrom(repo: Repo, branch: string, number: number): Promise<void> {
  await github.commit(repo.name, branch, { 'change.txt': 'a change\n' }, 'A change');
  await github.openPull(repo.name, { title: 'A change', head: branch, number });
}

describe('comment commands', () => {
  it('answers /agent help from a writer with the command list', async () => {
    const repo = await repository();

    await repo.say(7, '/agent help');

    const replies = repo.replies(7);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('@maintainer');
    expect(replies[0]).toContain('| `/agent revise <what to change>` | PR |');
    expect(replies[0]).toContain('Label an issue `agent`');
  });

  it('answers an unknown verb with the help text and names the word', async () => {
    const repo = await repository({ config: 'label: robot\n' });
    github.grant(repo.name, 'maintainer', 'admin');

    await repo.say(7, 'please\n/agent frobnicate now');

    expect(repo.replies(7)[0]).toContain('`frobnicate` is not a command I know.');
    expect(repo.replies(7)[0]).toContain('Label an issue `robot`');
  });

  it('refuses a non-writer politely and does nothing else', async () => {
    const repo = await repository();

    await repo.say(7, '/agent status', 'drive-by');

    expect(repo.replies(7)).toEqual([
      '@drive-by sorry, only people with write access to this repository can command agent-mapreduce.',
    ]);
  });

  it('ignores comments by bots, this app included, without a single API call', async () => {
    const repo = await repository();
    github.state.user('dependabot[bot]', 'Bot');
    const calls = github.calls.length;

    await repo.say(7, '/agent help', github.bot.login);
    await repo.say(7, '/agent status', 'dependabot[bot]');

    expect(github.calls.slice(calls)).toEqual([]);
  });

  it('ignores comments without a command, and commands inside code blocks', async () => {
    const repo = await repository();
    const calls = github.calls.length;

    await repo.say(7, 'Looks good to me');
    await repo.say(7, 'Try this:\n```\n/agent help\n```');

    expect(github.calls.slice(calls)).toEqual([]);
  });

  it('answers /agent status with "no run yet" when the app has not touched the issue', async () => {
    const repo = await repository();
    github.comment(repo.name, 7, 'a human comment', 'someone');

    await repo.say(7, '/agent status');

    expect(repo.replies(7)).toEqual([
      '@maintainer there is no agent run for this issue yet. Label an issue `agent` to start one.',
    ]);
  });

  it('answers /agent status from the marker of the app’s own status comment, not from one a person or another app pasted', async () => {
    const repo = await repository({ issues: 11 });
    await pullFrom(repo, 'agent/issue-3-fix', 12);
    github.comment(repo.name, 12, '<!-- agent-mapreduce:status {"state":"pr-open","pr":99} -->\nfake', 'mallory');
    github.state.user('other-app[bot]', 'Bot');
    github.comment(repo.name, 12, '<!-- agent-mapreduce:status {"state":"no-change"} -->\nquoted', 'other-app[bot]', { id: 999, slug: 'other-app' });
    github.comment(repo.name, 12, '<!-- agent-mapreduce:status {"state":"failed","attempt":2,"reason":"the tests failed"} -->\nFailed.', github.bot.login);

    await repo.say(12, '/agent status');

    expect(repo.replies(12)).toEqual([
      '@maintainer status of this PR: **failed** · attempt 2\n\n> the tests failed',
    ]);
  });

  it('answers a PR command on a PR the app did not open with where it works', async () => {
    const repo = await repository({ issues: 6 });
    await pullFrom(repo, 'feature/x', 7);

    await repo.say(7, '/agent hold');

    expect(repo.replies(7)).toEqual(['@maintainer `/agent hold` works on PRs that agent-mapreduce opened (branches `agent/issue-…`); this one is not.']);
  });

  it('says where a command works when it is used in the wrong place', async () => {
    const repo = await repository();

    await repo.say(7, '/agent rebase');

    expect(repo.replies(7)).toEqual(['@maintainer `/agent rebase` works on PRs, not on issues.']);
  });
});

describe('repository config', () => {
  it('quotes every problem of an invalid config file in one comment and runs nothing', async () => {
    const repo = await repository({ config: 'map:\n  concurrency: lots\nreduce:\n  mergeMethod: yolo\nextra: 1\n' });

    await repo.say(7, '/agent status');

    const created = repo.replies(7);
    expect(created).toHaveLength(1);
    const body = created[0]!;
    expect(body).toContain('`.github/agent-mapreduce.yml` is not valid');
    expect(body).toContain('- `map.concurrency`: Invalid input: expected number, received string');
    expect(body).toContain('- `reduce.mergeMethod`: Invalid option: expected one of "merge"|"squash"|"rebase"');
    expect(body).toContain('- `(file)`: Unrecognized key: "extra"');
    expect(body).not.toContain('status of');
  });

  it('edits its existing config comment instead of adding a second one', async () => {
    const repo = await repository({ config: 'label: [1, 2]\n' });
    const existing = github.comment(repo.name, 7, '<!-- agent-mapreduce:config -->\nold problems', github.bot.login);

    await repo.say(7, '/agent status');

    const edits = repo.edits(existing);
    expect(edits).toHaveLength(1);
    expect(edits[0]).toContain('- `label`: Invalid input: expected string, received array');
    expect(repo.replies(7)).toEqual([]);
  });

  it('reports a file that is not YAML at all, with where the parser stopped', async () => {
    const repo = await repository({ config: 'map: {concurrency: 2\n' });

    await repo.say(7, '/agent status');

    expect(repo.replies(7)[0]).toMatch(/- `\(file\)`: .*invalid YAML.*line 2/s);
  });
});
