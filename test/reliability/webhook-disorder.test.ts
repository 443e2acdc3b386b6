import { afterAll, describe, expect, it } from '@jest/globals';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { editLine } from '../support/scripted-model.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * The same work — two issues labelled, their PRs approved and merged — once with webhooks delivered in
 * order, once with every webhook delivered twice in a shuffled order. What users see must not differ.
 */
const REPO = 'octo-org/widgets';
const systems: System[] = [];

afterAll(async () => {
  await Promise.all(systems.map((s) => s.stop()));
});

async function runScenario(disordered: boolean) {
  const system = await startSystem({ env: { MAX_AGENTS: '2' } });
  systems.push(system);
  const { github } = system;
  await github.createRepository(REPO, {
    'a.txt': 'alpha\n', 'b.txt': 'beta\n', '.github/agent-mapreduce.yml': 'reduce:\n  requireChecks: false\n',
  });
  github.grant(REPO, 'maintainer', 'write');
  if (disordered) github.webhooks.disorder({ random: seededRandom(2026), windowMs: 300 });

  const issues = [
    github.openIssue(REPO, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') }),
    github.openIssue(REPO, { title: 'Beta to gamma', body: editLine('b.txt', 'beta', 'gamma') }),
  ];
  for (const issue of issues) github.label(REPO, issue, 'agent');
  for (const issue of issues) {
    const pull = await waitUntil(`the PR for #${issue}`, () => github.pullsFor(REPO, issue)[0], 45_000);
    github.review(REPO, pull.number, { state: 'APPROVED' });
  }
  await waitUntil('both merges and issues closed', () => issues.every((issue) =>
    github.issue(REPO, issue).state === 'closed' && github.pullsFor(REPO, issue).every((p) => p.pull!.merged)), 45_000);
  // the branch is deleted right after the merge's answer: let that land before looking
  await waitUntil('the merged branches to be deleted', async () => (await github.branches(REPO)).size === 1, 30_000);
  await github.webhooks.settled();
  if (disordered) {
    const sent = github.webhooks.deliveries.filter((d) => d.outcome !== 'pending').length;
    expect(github.webhooks.posts).toBeGreaterThanOrEqual(2 * sent - 2);
  }

  return {
    main: { a: await github.readFile(REPO, 'main', 'a.txt'), b: await github.readFile(REPO, 'main', 'b.txt') },
    branches: [...(await github.branches(REPO)).keys()].sort(),
    issues: issues.map((issue) => ({
      state: github.issue(REPO, issue).state,
      labels: [...github.issue(REPO, issue).labels].sort(),
      statusComments: github.comments(REPO, issue).filter((c) => c.viaApp).length,
      pulls: github.pullsFor(REPO, issue).map((p) => ({
        head: p.pull!.head, merged: p.pull!.merged, labels: [...p.labels].sort(),
        appComments: github.comments(REPO, p.number).filter((c) => c.viaApp).length,
      })),
    })),
    problems: github.problems,
  };
}

describe('webhooks delivered twice and out of order', () => {
  it('end in the same state as webhooks delivered once and in order', async () => {
    const [inOrder, disordered] = await Promise.all([runScenario(false), runScenario(true)]);
    expect(inOrder.main).toEqual({ a: 'omega\n', b: 'gamma\n' });
    expect(inOrder.branches).toEqual(['main']);
    expect(inOrder.issues.map((i) => i.pulls.length)).toEqual([1, 1]);
    expect(inOrder.problems).toEqual([]);
    expect(disordered).toEqual(inOrder);
  });
});
