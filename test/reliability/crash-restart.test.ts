import { afterEach, describe, expect, it } from '@jest/globals';
import { issueSettled, startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { editLine } from '../support/scripted-model.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * The app is killed with SIGKILL at a seeded random GitHub call of a run (before GitHub handled it, or
 * after, with the answer lost), and started again on the same work directory. Whatever the point, every
 * labelled issue must end with exactly one PR or one failure report, labels that say so, and no
 * worktree left in use.
 */
let system: System | undefined;

afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const SEEDS = [11, 23, 37, 41, 53, 67, 71, 89, 97, 101];

describe('a crash at any point of a run', () => {
  it.each(SEEDS)('seed %i: after SIGKILL and a restart, each issue has exactly one PR or one failure report', async (seed) => {
    const current = system = await startSystem({ env: { MAX_AGENTS: '2' } });
    const { github } = current;
    const random = seededRandom(seed);
    const repo = `octo-org/trial-${seed}`;
    await github.createRepository(repo, { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' });
    github.grant(repo, 'maintainer', 'write');

    // kill at the k-th GitHub call from now: two runs make about 30 before both PRs are open
    const killAt = github.calls.length + 1 + Math.floor(random() * 24);
    const phase = random() < 0.5 ? 'before' : 'after';
    let killed = false;
    github.onCall = async (call, at) => {
      if (killed || call.index !== killAt || at !== phase) return;
      killed = true;
      github.webhooks.hold = true;
      await current.app.kill('SIGKILL');
    };

    const issues = [
      github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') }),
      github.openIssue(repo, { title: 'Beta to gamma', body: editLine('b.txt', 'beta', 'gamma') }),
    ];
    for (const issue of issues) github.label(repo, issue, 'agent');

    // done: failed, or its PR open and the issue saying so (a restart's reconcile may have to fix the label)
    const settled = (issue: number) => issueSettled(github, repo, issue);
    await waitUntil('the app to be killed or both issues to settle', () => killed || issues.every(settled));
    if (!killed) await current.app.kill('SIGKILL');
    github.onCall = undefined;
    await current.restart();

    await waitUntil('both issues to settle after the restart', () => issues.every(settled));
    // a run whose PR is open may still be writing its status and releasing its worktree
    await waitUntil('no worktree in use', async () => (await current.worktreesInUse()).length === 0, 15_000)
      .catch(async () => expect(await current.worktreesInUse()).toEqual([]));

    for (const issue of issues) {
      const pulls = github.pullsFor(repo, issue);
      const failed = github.issue(repo, issue).labels.includes('agent:failed');
      expect({ issue, pulls: pulls.length, failed }).toEqual({ issue, pulls: failed ? 0 : 1, failed });
      const statusComments = github.comments(repo, issue).filter((c) => c.viaApp);
      // a comment only for a failure; the labels say the rest, and none says it is still working
      expect({ issue, statusComments: statusComments.length }).toEqual({ issue, statusComments: failed ? 1 : 0 });
      const labels = github.issue(repo, issue).labels;
      expect({ issue, working: labels.includes('agent:working'), opened: labels.includes('agent:pr-opened') })
        .toEqual({ issue, working: false, opened: !failed });
      if (!failed) {
        const file = issue === issues[0] ? 'a.txt' : 'b.txt';
        expect(await github.readFile(repo, pulls[0]!.pull!.head, file)).toBe(issue === issues[0] ? 'omega\n' : 'gamma\n');
      }
    }
    expect(github.problems).toEqual([]);
  });
});
