import { afterEach, describe, expect, it } from '@jest/globals';
import { runGit } from '../../src/git/run-git.js';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { editLine } from '../support/scripted-model.js';

/**
 * GitHub failing the way it does — 500/502s, secondary rate limits, answers lost after the work was
 * done — on the calls whose duplicates a user would see: PR creation, status comment updates, merges.
 */
const REPO = 'octo-org/widgets';
let system: System | undefined;

afterEach(async () => {
  await system?.stop();
  system = undefined;
});

async function start(): Promise<System> {
  system = await startSystem({ env: { MAX_AGENTS: '2' } });
  await system.github.createRepository(REPO, { 'colours.txt': 'red\ngreen\nblue\n', '.github/agent-mapreduce.yml': 'reduce:\n  requireChecks: false\n' });
  system.github.grant(REPO, 'maintainer', 'write');
  return system;
}

const callsOf = (current: System, operation: string) => current.github.calls.filter((c) => c.operation === operation);

describe('GitHub faults', () => {
  it('retries PR creation once after a secondary rate limit and label writes through 500s, and opens one PR', async () => {
    const current = await start();
    const { github } = current;
    github.faults.add({ operation: 'pulls/create', kind: 'secondary-limit', retryAfterSeconds: 1, times: 1 });
    github.faults.add({ operation: 'issues/add-labels', kind: 'error', status: 500, times: 2 });

    const issue = github.openIssue(REPO, { title: 'Teal', body: editLine('colours.txt', 'green', 'teal') });
    github.label(REPO, issue, 'agent');
    // the new label goes on before the old one comes off, so that the issue always shows one
    await waitUntil('the PR and its label', () => github.pullsFor(REPO, issue)[0] &&
      github.issue(REPO, issue).labels.includes('agent:pr-opened') && !github.issue(REPO, issue).labels.includes('agent:working'));

    expect([...github.faults.fired].sort()).toEqual([
      'issues/add-labels error', 'issues/add-labels error', 'pulls/create secondary-limit',
    ]);
    expect(callsOf(current, 'pulls/create').map((c) => c.status)).toEqual([403, 201]);
    // the retry came after the `retry-after` GitHub asked for
    const [limited, created] = callsOf(current, 'pulls/create');
    expect(created!.at - limited!.at).toBeGreaterThanOrEqual(1000);
    expect(github.pullsFor(REPO, issue)).toHaveLength(1);
    expect(github.issue(REPO, issue).labels).toEqual(['agent', 'agent:pr-opened']);
    expect(github.comments(REPO, issue).filter((c) => c.viaApp)).toEqual([]);
    expect(github.problems).toEqual([]);
  });

  it('merges once when the answer to the merge is lost, and still deletes the branch', async () => {
    const current = await start();
    const { github } = current;
    github.faults.add({ operation: 'pulls/merge', kind: 'error', status: 502, times: 1, afterHandling: true });

    const issue = github.openIssue(REPO, { title: 'Teal', body: editLine('colours.txt', 'green', 'teal') });
    github.label(REPO, issue, 'agent');
    const pull = await waitUntil('the PR', () => github.pullsFor(REPO, issue)[0]);
    github.review(REPO, pull.number, { state: 'APPROVED' });

    await waitUntil('the branch to be deleted', async () => !(await github.branches(REPO)).has(pull.pull!.head));
    expect(pull.pull!.merged).toBe(true);
    // Octokit's retry plugin tries the 502 again; that answer (405: merged already) is read, not retried
    expect(callsOf(current, 'pulls/merge').map((c) => c.status)).toEqual([502, 405]);
    expect(await github.readFile(REPO, 'main', 'colours.txt')).toBe('red\nteal\nblue\n');
    expect((await runGit(['rev-list', '--count', 'main'], { cwd: github.repo(REPO).gitDir })).trim()).toBe('2');
    expect(pull.labels).not.toContain('agent:conflict');
    expect(github.comments(REPO, pull.number).filter((c) => c.viaApp)).toEqual([]);
    expect(github.problems).toEqual([]);
  });

  it('gives up after one retry with a clear failure report, and never opens a second PR', async () => {
    const current = await start();
    const { github } = current;
    github.faults.add({ operation: 'pulls/create', kind: 'secondary-limit', retryAfterSeconds: 1, times: 100 });

    const issue = github.openIssue(REPO, { title: 'Teal', body: editLine('colours.txt', 'green', 'teal') });
    github.label(REPO, issue, 'agent');
    await waitUntil('the failure report', () => github.issue(REPO, issue).labels.includes('agent:failed') &&
      github.comments(REPO, issue).find((c) => c.viaApp && c.body.includes('Failed')));

    // retried once, as GitHub asks: retrying on through a secondary limit can get an integration banned
    expect(callsOf(current, 'pulls/create')).toHaveLength(2);
    const report = github.comments(REPO, issue).filter((c) => c.viaApp);
    expect(report).toHaveLength(1);
    expect(report[0]!.body).toMatch(/secondary rate limit/i);
    expect(report[0]!.body).toContain('/agent retry');
    expect(github.pullsFor(REPO, issue)).toEqual([]);
    expect(github.problems).toEqual([]);
  });
});
