import { afterAll, describe, expect, it } from '@jest/globals';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { editLine } from '../support/scripted-model.js';

const REPO = 'octo-org/widgets';
const INTERVAL_MS = 10_000;
let system: System | undefined;

afterAll(async () => {
  await system?.stop();
});

describe('a webhook GitHub never delivers', () => {
  it('costs at most one reconcile interval: the labelled issue still gets its PR', async () => {
    system = await startSystem({ env: { RECONCILE_INTERVAL: `${INTERVAL_MS / 1000}s` } });
    const { github } = system;
    await github.createRepository(REPO, { 'a.txt': 'alpha\n' });
    github.grant(REPO, 'maintainer', 'write');
    // the start-up pass has looked at the repository before the issue exists
    await waitUntil('the start-up reconcile', () => github.calls.some((c) => c.operation === 'issues/list-for-repo'));
    github.webhooks.drop = (delivery) => delivery.name === 'issues' && delivery.payload.action === 'labeled';

    const issue = github.openIssue(REPO, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') });
    github.label(REPO, issue, 'agent');
    expect(github.webhooks.deliveries.filter((d) => d.outcome === 'dropped')).toHaveLength(1);

    await waitUntil('the reconcile pass to take the issue', () => github.issue(REPO, issue).labels.includes('agent:working'), INTERVAL_MS + 5_000);
    const pull = await waitUntil('the PR', () => github.pullsFor(REPO, issue)[0]);
    expect(await github.readFile(REPO, pull.pull!.head, 'a.txt')).toBe('omega\n');
    await waitUntil('the issue to show its PR', () => github.issue(REPO, issue).labels.includes('agent:pr-opened'));
    expect(github.comments(REPO, issue).filter((c) => c.viaApp)).toHaveLength(0);
    expect(github.problems).toEqual([]);
  });
});
