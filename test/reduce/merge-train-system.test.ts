/**
 * Merge trains end to end: the app in its own process against the local GitHub (signed webhooks,
 * OpenAPI-checked calls, git over HTTP) with simulated CI on every push.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { runGit } from '../../src/git/run-git.js';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { SimulatedCi } from '../support/local-github/simulated-ci.js';

const REPO = 'octo-org/widgets';
let system: System;
let ci: SimulatedCi;

beforeEach(async () => {
  system = await startSystem();
  await system.github.createRepository(REPO, { 'README.md': '# Widgets\n', '.github/agent-mapreduce.yml': 'reduce:\n  batchSize: 10\n' });
  system.github.grant(REPO, 'maintainer', 'write');
  // red only where a PR's `broken.txt` meets the base's `strict.txt`: each PR alone is green
  ci = new SimulatedCi(system.github, { seconds: 1, failWhen: ['broken.txt', 'strict.txt'] });
});

afterEach(async () => {
  ci.stop();
  await system?.stop();
});

/** Agent PRs, one file each, opened and green on their own heads. */
async function openPulls(files: string[]): Promise<number[]> {
  const numbers: number[] = [];
  for (const [i, file] of files.entries()) {
    const branch = `agent/issue-${100 + i}-add-${file.replace(/\W/g, '-')}`;
    await system.github.commit(REPO, branch, { [file]: `${file}\n` }, `Add ${file}`, { from: 'main' });
    numbers.push(await system.github.openPull(REPO, { head: branch, title: `Add ${file}`, by: 'agent-mapreduce[bot]' }));
  }
  await waitUntil('CI on the PRs', () => ci.running === 0);
  return numbers;
}

/**
 * The app has answered every delivery and asked GitHub nothing for a second: a reduce pass that the
 * base's CI started has ended. Approvals made during such a pass meet it half-read (it reads PR by PR)
 * and reach the next one in two trains; these tests count the trains of one pass that sees them all.
 */
async function quiet(): Promise<void> {
  await system.github.webhooks.settled();
  await waitUntil('the app to go quiet', () => Date.now() - (system.github.calls.at(-1)?.at ?? 0) > 1000);
}

const trainRuns = () => ci.runs.filter((r) => r.branch.startsWith('agent-mapreduce/train/'));

describe('merge trains against the local GitHub with CI', () => {
  it('merges approved PRs after one CI run of their train, and leaves out the one that breaks the base', async () => {
    const { github } = system;
    const pulls = await openPulls(['a.txt', 'b.txt', 'broken.txt', 'c.txt']);
    await github.commit(REPO, 'main', { 'strict.txt': 'the base got stricter\n' }, 'Stricter checks');
    await waitUntil('CI on the base', () => ci.running === 0);
    await quiet();

    for (const n of pulls) github.review(REPO, n, { state: 'APPROVED', body: 'ok' });

    const [a, b, broken, c] = pulls as [number, number, number, number];
    await waitUntil('the good PRs to merge', () => [a, b, c].every((n) => github.issue(REPO, n).pull!.merged), 60_000);
    await waitUntil('the broken one to be flagged', () => github.issue(REPO, broken).labels.includes('agent:ci-failed'), 30_000);
    expect(github.issue(REPO, broken).pull!.merged).toBe(false);
    const flag = github.comments(REPO, broken).find((comment) => comment.body.includes('❌'));
    expect(flag?.body).toContain('**Fails `ci/test` on top of `main`**');
    expect(await github.readFile(REPO, 'main', 'c.txt')).toBe('c.txt\n');
    expect(await github.readFile(REPO, 'main', 'broken.txt')).toBeUndefined();
    // the whole batch (red); then, side by side, without each: only the one without the broken PR is green
    // (it lands the other three): 5 runs for 4 PRs
    const [batch, ...round] = trainRuns().map((r) => r.conclusion);
    expect([batch, round.sort()]).toEqual(['failure', ['failure', 'failure', 'failure', 'success']]);
    await waitUntil('the train branches to go', async () => ![...(await github.branches(REPO)).keys()].some((b) => b.startsWith('agent-mapreduce/train/')));
    // the passes re-read every candidate's reviews; unchanged ones come back 304, which costs no rate limit
    const reviewReads = github.callsOf('pulls/list-reviews').map((c) => c.status);
    expect(reviewReads.filter((status) => status === 304).length).toBeGreaterThan(reviewReads.length / 3);
    expect(github.problems).toEqual([]);
  });

  it('tests first without the PR whose file the failing check annotates, and lands the rest in two rounds', async () => {
    const { github } = system;
    ci.stop();
    // the check names the broken PR's file, and the base's own `strict.txt` (the base added it after the
    // PRs left it: a diff from the base tip would show every PR "changing" it, and point at nobody)
    const annotate = (file: string) => ({ path: file, line: 1, level: 'failure' as const, message: 'breaks a rule of strict.txt' });
    ci = new SimulatedCi(github, {
      seconds: 1, failWhen: ['broken.txt', 'strict.txt'],
      failure: () => ({ summary: 'a rule of strict.txt', annotations: [annotate('broken.txt'), annotate('strict.txt')] }),
    });
    const pulls = await openPulls(['a.txt', 'b.txt', 'c.txt', 'broken.txt', 'd.txt', 'e.txt']);
    await github.commit(REPO, 'main', { 'strict.txt': 'the base got stricter\n' }, 'Stricter checks');
    await waitUntil('CI on the base', () => ci.running === 0);
    await quiet();

    for (const n of pulls) github.review(REPO, n, { state: 'APPROVED', body: 'ok' });

    const good = pulls.filter((_, i) => i !== 3);
    await waitUntil('the good PRs to merge', () => good.every((n) => github.issue(REPO, n).pull!.merged), 60_000);
    await waitUntil('the broken one to be flagged', () => github.issue(REPO, pulls[3]!).labels.includes('agent:ci-failed'), 30_000);
    // the batch of six; then, in one round, the train without the broken one (its five land) beside the
    // two binary trains (three and four PRs). By colours alone: six, then three and four, then #c alone.
    const members = async (sha: string) =>
      (await runGit(['log', '-1', '--format=%B', sha], { cwd: github.repo(REPO).gitDir })).split('\n').filter((l) => l.startsWith('Agent-Mapreduce-Pull: ')).length;
    const [batch, ...round] = trainRuns();
    expect([batch!.conclusion, await members(batch!.sha)]).toEqual(['failure', 6]);
    expect((await Promise.all(round.map((r) => members(r.sha)))).sort()).toEqual([3, 4, 5]);
    expect(round.map((r) => r.conclusion)).toEqual(['success', 'success', 'success']);
    expect(github.callsOf('checks/list-annotations')).toHaveLength(1);
    expect(github.problems).toEqual([]);
  });

  it('abandons a train when someone pushes to the base while CI runs, and merges what the next train tested', async () => {
    const { github } = system;
    // the first train's CI ends only after the human's push, however slow the machine: green, but stale
    let pushed!: () => void;
    const humanPushed = new Promise<void>((resolve) => { pushed = resolve; });
    ci.stop();
    ci = new SimulatedCi(github, {
      seconds: 1,
      fails: async (run) => {
        if (run.branch === 'agent-mapreduce/train/main/1') await humanPushed;
        return false;
      },
    });
    const pulls = await openPulls(['a.txt', 'b.txt']);
    for (const n of pulls) github.review(REPO, n, { state: 'APPROVED', body: 'ok' });
    await waitUntil('the first train', () => trainRuns().length === 1);

    await github.commit(REPO, 'main', { 'human.txt': 'pushed by hand\n' }, 'A human push');
    pushed();

    await waitUntil('both merged', () => pulls.every((n) => github.issue(REPO, n).pull!.merged), 60_000);
    const [first, second] = trainRuns();
    expect(first?.branch).toBe('agent-mapreduce/train/main/1');
    expect(second?.branch).toBe('agent-mapreduce/train/main/2');
    // the merges came after the second train's run, which was built on the human's push
    expect(await github.readFile(REPO, second!.sha, 'human.txt')).toBe('pushed by hand\n');
    expect(await github.readFile(REPO, 'main', 'human.txt')).toBe('pushed by hand\n');
    expect(github.problems).toEqual([]);
  });
});

describe('a base that requires GitHub’s merge queue', () => {
  it('hands the approved PRs to the queue in the merge order, priority first, each with its head as the expected one', async () => {
    const { github } = system;
    github.mergeQueues.require(REPO, 'main');
    const pulls = await openPulls(['a.txt', 'b.txt', 'c.txt']);
    const [a, b, c] = pulls as [number, number, number];
    github.label(REPO, c, 'agent:priority');
    for (const n of pulls) github.review(REPO, n, { state: 'APPROVED', body: 'ok' });

    await waitUntil('all three queued', () => github.mergeQueues.entries(REPO, 'main').length === 3, 30_000);

    const entries = github.mergeQueues.entries(REPO, 'main');
    expect(entries.map((e) => e.number)).toEqual([c, a, b]);
    expect(entries.map((e) => e.jump)).toEqual([true, false, false]);
    expect(entries.map((e) => e.headSha)).toEqual([c, a, b].map((n) => github.issue(REPO, n).pull!.headSha));
    expect(pulls.map((n) => github.issue(REPO, n).pull!.merged)).toEqual([false, false, false]);
    await waitUntil('the merge order to say so', () => github.repo(REPO).checkRuns
      .some((r) => r.name === 'agent-mapreduce/merge-order' && r.headSha === github.issue(REPO, a).pull!.headSha && r.title.includes('merge queue')));
    // the one REST merge that found out (a 405 is read, not retried), then none
    expect(github.calls.filter((call) => call.operation === 'pulls/merge').map((call) => call.status)).toEqual([405]);
    expect(github.problems).toEqual([]);
  });
});
