import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueSettled, startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { editLine } from '../support/scripted-model.js';

const REPO = 'octo-org/widgets';
let system: System;

beforeAll(async () => {
  system = await startSystem({ env: { MAX_AGENTS: '2' } });
  await system.github.createRepository(REPO, {
    'README.md': '# Widgets\n',
    'src/colours.txt': 'red\ngreen\nblue\n',
    '.github/agent-mapreduce.yml': 'reduce:\n  requireChecks: false\n',
  });
  system.github.grant(REPO, 'maintainer', 'write');
});

afterAll(async () => {
  await system?.stop();
});

describe('the app unchanged against the local GitHub', () => {
  it('labels an issue, opens its PR from the agent’s edit, merges it once a writer approves, and closes the issue', async () => {
    const { github } = system;
    const issue = github.openIssue(REPO, { title: 'Green should be teal', body: editLine('src/colours.txt', 'green', 'teal') });
    github.label(REPO, issue, 'agent');

    const pull = await waitUntil('the PR', () => github.pullsFor(REPO, issue)[0]);
    expect(pull.pull!.head).toBe(`agent/issue-${issue}-green-should-be-teal`);
    expect(pull.body).toContain(`Closes #${issue}`);
    expect(await github.readFile(REPO, pull.pull!.head, 'src/colours.txt')).toBe('red\nteal\nblue\n');

    github.review(REPO, pull.number, { state: 'APPROVED', body: 'Looks good' });
    await waitUntil('the merge', () => pull.pull!.merged);
    expect(await github.readFile(REPO, 'main', 'src/colours.txt')).toBe('red\nteal\nblue\n');
    await waitUntil('the issue to close', () => github.issue(REPO, issue).state === 'closed');
    await waitUntil('the branch to go', async () => !(await github.branches(REPO)).has(pull.pull!.head));

    // the happy path says nothing in comments: a label, then the PR GitHub links from "Closes"
    expect(github.comments(REPO, issue).filter((c) => c.viaApp)).toEqual([]);
    expect(github.issue(REPO, issue).labels).toEqual(['agent', 'agent:pr-opened']);
    // git got a token per fetch and push, for this repository alone, read or write as the step needed, each revoked after use
    expect(github.tokensIssued).toContainEqual({ repositories: ['widgets'], contents: 'read' });
    expect(github.tokensIssued).toContainEqual({ repositories: ['widgets'], contents: 'write' });
    expect(github.tokensIssued.filter((t) => t.repositories !== 'all').every((t) => t.repositories.length === 1)).toBe(true);
    await waitUntil('every git token to be revoked (a pass may still be fetching)', () => github.liveNarrowTokens() === 0);
    expect(github.problems).toEqual([]);
    expect(github.webhooks.deliveries.filter((d) => d.outcome === 'failed')).toEqual([]);
  });
  it('fetches nothing for a run while the repository\'s branches on GitHub are those its clone already has', async () => {
    const { github } = system;
    const reads = () => github.tokensIssued.filter((t) => t.contents === 'read').length;
    const first = github.openIssue(REPO, { title: 'Red should be crimson', body: editLine('src/colours.txt', 'red', 'crimson') });
    github.label(REPO, first, 'agent');
    await waitUntil('the first PR', () => issueSettled(github, REPO, first));
    await waitUntil('every git token to be revoked', () => github.liveNarrowTokens() === 0);
    const before = reads();

    // since then only the first run's branch moved, and that run pushed it from this clone
    const second = github.openIssue(REPO, { title: 'Blue should be navy', body: editLine('src/colours.txt', 'blue', 'navy') });
    github.label(REPO, second, 'agent');
    await waitUntil('the second PR', () => issueSettled(github, REPO, second));
    expect(reads()).toBe(before);
    const [pull] = github.pullsFor(REPO, second);
    expect(await github.readFile(REPO, pull!.pull!.head, 'src/colours.txt')).toBe('red\nteal\nnavy\n');
    // it asked GitHub for the branches instead, conditionally: unchanged answers cost no rate limit
    expect(github.callsOf('git/list-matching-refs').map((c) => c.status)).toContain(304);
    expect(github.problems).toEqual([]);
  });
});
