/**
 * Human bandwidth, end to end: issues held before the queue (pacing, blockers) and the budget per
 * issue. The app runs in its own process against the local GitHub (signed webhooks, OpenAPI-checked
 * calls, git over HTTP), the built-in agent on the scripted model, whose every turn costs $0.30
 * (100k input tokens at the default price of $3 per million).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { editLine, startScriptedModel } from '../support/scripted-model.js';

let system: System;
const TOKEN = 'dashboard-token-for-the-bandwidth-tests';

beforeAll(async () => {
  const model = await startScriptedModel({ usage: { input_tokens: 100_000, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } });
  system = await startSystem({ env: { MAX_AGENTS: '4', DASHBOARD_TOKEN: TOKEN }, model });
});

afterAll(async () => {
  await system?.stop();
});

/** The app's status comment on an issue ('' while it has none). */
/** What `/agent status` answers on the issue, asked as a writer. */
async function askStatus(repo: string, issue: number): Promise<string> {
  const before = system.github.comments(repo, issue).length;
  system.github.comment(repo, issue, '/agent status');
  return (await waitUntil('the answer to /agent status', () => system.github.comments(repo, issue).slice(before).find((c) => c.viaApp))).body;
}

const statusOf = (repo: string, issue: number) =>
  system.github.comments(repo, issue).find((c) => c.viaApp && c.body.includes('agent-mapreduce:status'))?.body ?? '';

async function repository(name: string, files: Record<string, string>): Promise<string> {
  const repo = `octo-org/${name}`;
  await system.github.createRepository(repo, files);
  system.github.grant(repo, 'maintainer', 'write');
  return repo;
}

describe('pacing the agents to the reviewers (map.maxAwaitingReview)', () => {
  it('opens two PRs of six, holds the rest with the reason, and lets exactly one more start per review by a person', async () => {
    const { github } = system;
    const files = Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`f${i}.txt`, `line ${i}\n`]));
    const repo = await repository('paced', { ...files, '.github/agent-mapreduce.yml': 'map:\n  concurrency: 4\n  maxAwaitingReview: 2\n' });
    const issues = [1, 2, 3, 4, 5, 6].map((i) => github.openIssue(repo, { title: `Change f${i}`, body: editLine(`f${i}.txt`, `line ${i}`, `done ${i}`) }));
    for (const issue of issues) github.label(repo, issue, 'agent');

    const opened = () => issues.filter((i) => github.pullsFor(repo, i).length > 0);
    const reason = 'waiting: 2 agent PRs on `main` await review or are being written (`map.maxAwaitingReview` is 2); ' +
      'it starts by itself once a person with write access reviews one.';
    // held: a label says so (no comment: a notifying write per held issue would outrun GitHub's limit)
    const held = () => issues.filter((i) => github.issue(repo, i).labels.includes('agent:awaiting-reviews'));
    // two run (which two depends on which label webhook is handled first); the others say why they wait
    await waitUntil('two PRs and four issues waiting on them', () => opened().length === 2 && held().length === 4);
    const [first, second] = opened().map((i) => github.pullsFor(repo, i)[0]!.number);
    const waiting = issues.filter((i) => !opened().includes(i));
    expect(held()).toEqual(waiting);
    for (const issue of waiting) {
      expect(github.issue(repo, issue).labels).not.toContain('agent:working');
      expect(statusOf(repo, issue)).toBe('');
    }
    expect(await askStatus(repo, waiting[0]!)).toContain(`this issue is **waiting** before the queue: ${reason}`);
    // the dashboard's board says the same of each held issue
    const board = await (await fetch(`${system.app.url}/agent-mapreduce/`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    for (const issue of waiting) {
      const card = board.slice(board.indexOf(`/${repo}/issues/${issue}"`));
      expect(card.slice(0, card.indexOf('</li>'))).toContain(reason);
    }

    // a person reviews one PR: it leaves the count, and exactly one more issue starts, the first in line
    github.review(repo, first!, { state: 'COMMENTED', body: 'Looking at it.' });
    await waitUntil('a third PR and three issues waiting on two PRs', () => opened().length === 3 && held().length === 3);
    expect(held()).toEqual(waiting.slice(1));
    await waitUntil('the third issue to show its PR', () => github.issue(repo, waiting[0]!).labels.includes('agent:pr-opened'));
    expect(github.issue(repo, waiting[0]!).labels).not.toContain('agent:awaiting-reviews');
    // a bot's review is no person's, and a passer-by's on a public repository sets no pace: nothing more starts
    github.review(repo, second!, { state: 'COMMENTED', body: 'Lint says ok.', by: 'lint-bot[bot]' });
    github.review(repo, second!, { state: 'COMMENTED', body: 'Ship it!', by: 'passer-by' });
    const third = github.pullsFor(repo, waiting[0]!)[0]!.number;
    github.review(repo, third, { state: 'COMMENTED', body: 'Fine by me.' });
    await waitUntil('a fourth PR', () => opened().length === 4 && held().length === 2);
    expect(held()).toEqual(waiting.slice(2));
    expect(github.problems).toEqual([]);
  });
});

describe('issue dependencies', () => {
  it('holds issues blocked by an open issue (GitHub\'s "blocked by" or a line in the body) and starts them from the base with its fix', async () => {
    const { github } = system;
    const repo = await repository('blocked', { 'a.txt': 'alpha\n', 'b.txt': 'beta\n', 'c.txt': 'gamma\n' });
    const blocker = github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') });
    const viaApi = github.openIssue(repo, { title: 'Beta to delta', body: editLine('b.txt', 'beta', 'delta') });
    const viaBody = github.openIssue(repo, { title: 'Gamma to epsilon', body: `${editLine('c.txt', 'gamma', 'epsilon')}\n\nDepends on #${blocker}` });
    github.block(repo, viaApi, blocker);
    github.label(repo, viaApi, 'agent');
    github.label(repo, viaBody, 'agent');

    const blocked = (issue: number) => github.issue(repo, issue).labels.includes('agent:blocked');
    await waitUntil('both blocked issues to say so', () => blocked(viaApi) && blocked(viaBody));
    for (const issue of [viaApi, viaBody]) {
      expect(await askStatus(repo, issue)).toContain(`this issue is **waiting** before the queue: waiting for #${blocker} to close: this issue is blocked by it.`);
    }
    expect(github.pullsFor(repo, viaApi)).toEqual([]);

    // the blocker runs, its PR is approved and merged, which closes it: the blocked ones start from the new base
    github.label(repo, blocker, 'agent');
    const blockerPull = await waitUntil('the blocker\'s PR', () => github.pullsFor(repo, blocker)[0]);
    expect(github.pullsFor(repo, viaApi)).toEqual([]);
    github.review(repo, blockerPull.number, { state: 'APPROVED', body: 'Good.' });
    await waitUntil('the blocker to close', () => github.issue(repo, blocker).state === 'closed');
    for (const [issue, file, text] of [[viaApi, 'b.txt', 'delta\n'], [viaBody, 'c.txt', 'epsilon\n']] as const) {
      const pull = await waitUntil(`#${issue}'s PR`, () => github.pullsFor(repo, issue)[0]);
      expect(await github.readFile(repo, pull.pull!.head, file)).toBe(text);
      expect(await github.readFile(repo, pull.pull!.head, 'a.txt')).toBe('omega\n');
    }
    expect(github.problems).toEqual([]);
  });

  it('falls back to the body\'s lines where GitHub refuses the dependencies (a permission not yet accepted)', async () => {
    const { github } = system;
    const repo = await repository('blocked-forbidden', { 'a.txt': 'alpha\n' });
    const blocker = github.openIssue(repo, { title: 'First', body: 'Not for the agent.' });
    const blocked = github.openIssue(repo, { title: 'Alpha to omega', body: `${editLine('a.txt', 'alpha', 'omega')}\nBlocked by #${blocker}` });
    github.block(repo, blocked, blocker);
    github.faults.add({ operation: 'issues/list-dependencies-blocked-by', kind: 'forbidden', times: 10 });
    github.label(repo, blocked, 'agent');
    await waitUntil('the issue to wait for its blocker', () => github.issue(repo, blocked).labels.includes('agent:blocked'));
    expect(await askStatus(repo, blocked)).toContain(`waiting for #${blocker} to close`);
    expect(github.faults.fired).toContain('issues/list-dependencies-blocked-by forbidden');
    github.closeIssue(repo, blocker);
    await waitUntil('its PR once the blocker is closed', () => github.pullsFor(repo, blocked)[0]);
    github.faults.clear();
  });
});

describe('a budget per issue (agent.maxIssueCostUsd)', () => {
  it('stops the run that reaches it, and refuses /agent revise and /agent retry afterwards with the total', async () => {
    const { github } = system;
    const repo = await repository('budget', { 'a.txt': 'alpha\n', 'b.txt': 'beta\n', '.github/agent-mapreduce.yml': 'agent:\n  maxIssueCostUsd: 0.9\n' });
    const issue = github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') });
    github.label(repo, issue, 'agent');
    // two turns: the edit, then finish — $0.60 of $0.90
    const pull = await waitUntil('the PR', () => github.pullsFor(repo, issue)[0]);
    expect(pull.body).toContain('$0.60');

    // the revision may spend the $0.30 left: its first turn does, and it stops there
    github.comment(repo, pull.number, `/agent revise ${editLine('b.txt', 'beta', 'delta')}`);
    const stopped = await waitUntil('the revision to stop', () =>
      github.comments(repo, pull.number).find((c) => c.viaApp && c.body.includes('the cost budget of $0.30 ran out')));
    expect(stopped.body).toContain('$0.30 spent');

    github.comment(repo, pull.number, `/agent revise ${editLine('b.txt', 'beta', 'gamma')}`);
    const refused = await waitUntil('the refusal', () =>
      github.comments(repo, pull.number).find((c) => c.viaApp && c.body.includes('reaches its budget')));
    expect(refused.body).toContain('This issue has spent $0.90 on 2 agent runs, which reaches its budget of $0.90 (`agent.maxIssueCostUsd`)');
    expect(await github.readFile(repo, github.issue(repo, pull.number).pull!.head, 'b.txt')).toBe('beta\n');
    // nor may the issue start again from scratch
    github.comment(repo, issue, '/agent retry');
    await waitUntil('the issue to say its budget is spent', () => statusOf(repo, issue).includes('This issue has spent $0.90 on 2 agent runs'));
    expect(statusOf(repo, issue)).toContain('⏹️ **Cancelled.**');
    expect(github.pullsFor(repo, issue)).toHaveLength(1);
    expect(github.problems).toEqual([]);
  });
});
