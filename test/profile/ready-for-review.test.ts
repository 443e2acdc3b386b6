import { describe, expect, it } from '@jest/globals';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { breadcrumbOf } from '../../src/profile/breadcrumb.js';
import { Profile } from '../../src/profile/profile.js';
import { areaOf, groupForReview } from '../../src/profile/ready-for-review.js';
import type { ReadyPull } from '../../src/profile/view.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0);
const MINUTE = 60_000;

function ready(pr: number, files: string[] | undefined, sinceMinutes: number, repo = 'octo/app'): ReadyPull {
  return {
    repo, issue: pr - 100, title: `PR ${pr}`, issueUrl: `https://github.com/${repo}/issues/${pr - 100}`, pr, url: `https://github.com/${repo}/pull/${pr}`,
    base: 'main', review: 'first', since: T0 + sinceMinutes * MINUTE, ...(files ? { files } : {}), costUsd: 0.1, revisionRounds: 0,
  };
}

describe('the Ready for review grouping', () => {
  it('names an area by the top two folders of a file', () => {
    expect(['src/profile/view.ts', 'src/profile/dashboard/html.ts', 'src/index.ts', 'README.md'].map(areaOf))
      .toEqual(['src/profile', 'src/profile', 'src', '(top level)']);
  });

  it('groups PRs by repository and the area most of their files are in, oldest first, the longest-waiting group first', () => {
    const groups = groupForReview([
      ready(201, ['src/map/a.ts', 'src/map/b.ts', 'test/map/a.test.ts'], 30),
      ready(202, ['src/profile/view.ts'], 10),
      ready(203, ['src/map/c.ts'], 5),
      ready(204, ['src/profile/x.ts', 'test/profile/x.test.ts'], 20),
      ready(205, undefined, 40),
      ready(206, ['src/map/a.ts'], 1, 'octo/other'),
    ]);
    expect(groups.map((g) => [g.repo, g.area, g.pulls.map((p) => p.pr)])).toEqual([
      ['octo/other', 'src/map', [206]],
      ['octo/app', 'src/map', [203, 201]],
      ['octo/app', 'src/profile', [202, 204]],
      ['octo/app', '(files not known)', [205]],
    ]);
    expect(groups[1]!.pulls.map((p) => p.alsoTouches)).toEqual([[], ['test/map']]);
    expect(groups[2]!.pulls[1]!.alsoTouches).toEqual(['test/profile']); // a tie goes to the first by name
  });

  it('lists a PR while its next step is a person’s review, and not while a run, an approval or a change request stands', async () => {
    let now = T0;
    const scheduler = new Scheduler({ globalCap: 2 });
    const profile = new Profile({ load: scheduler, webBase: 'https://github.com', now: () => now });
    profile.follow(scheduler);
    const open = (issue: number, pr: number, files: string[]) => {
      profile.record({ repo: 'octo/app', issue, type: 'seen', title: `Issue ${issue}` });
      profile.record({
        repo: 'octo/app', issue, type: 'pull', pr, url: `https://github.com/octo/app/pull/${pr}`, base: 'main', opened: true, sha: `${pr}`.repeat(8),
        summary: `Changed ${files.join(', ')}.\n\n## Verification\n\n- \`npm test\`: 12 passed\n- \`npm run lint\`: clean\n\n## Questions\n\nNone.`, files,
      });
    };
    open(1, 11, ['src/a/x.ts']);
    now += 5 * MINUTE;
    open(2, 12, ['src/a/y.ts', 'src/b/z.ts']);
    open(3, 13, ['src/b/w.ts']);
    open(4, 14, ['docs/guide.md']);
    profile.record({ repo: 'octo/app', issue: 3, type: 'review', pr: 13, id: 1, author: 'alice', state: 'approved' });
    profile.record({ repo: 'octo/app', issue: 4, type: 'review', pr: 14, id: 2, author: 'alice', state: 'changes_requested' });
    let finish!: () => void;
    scheduler.enqueue({ key: 'octo/app#4', work: 'revision', group: 'octo/app', groupCap: 2, priority: 0, since: 0, run: () => new Promise<void>((resolve) => (finish = resolve)) });
    profile.record({ repo: 'octo/app', issue: 1, type: 'checks', pr: 11, sha: '11111111', state: 'failed', failed: ['test'] });
    expect(profile.ready().map((g) => [g.area, g.pulls.map((p) => p.pr)])).toEqual([['src/a', [11, 12]]]);
    expect(profile.ready()[0]!.pulls[0]).toMatchObject({
      review: 'first', since: T0, checks: 'failed', verified: ['`npm test`: 12 passed', '`npm run lint`: clean'], files: ['src/a/x.ts'], title: 'Issue 1',
    });

    now += 10 * MINUTE;
    profile.record({ repo: 'octo/app', issue: 4, type: 'revised', pr: 14, sha: 'abcdef12' });
    finish();
    await scheduler.idle();
    expect(profile.ready().map((g) => [g.area, g.pulls.map((p) => [p.pr, p.review, (p.since - T0) / MINUTE])])).toEqual([
      ['src/a', [[11, 'first', 0], [12, 'first', 5]]],
      ['docs', [[14, 're-review', 15]]],
    ]);
    expect(profile.view().headline.ready).toBe(3);
  });
});

describe('the breadcrumb', () => {
  it('takes what the agent verified from its summary: the lines under a heading, or else the sentences about tests and commands', () => {
    expect(breadcrumbOf('Fixed the parser.\n\n**Testing:**\n1. Ran `npm test`, all 40 passed.\n2. Added a case.\n\nOpen question: none.', ['a.ts']))
      .toEqual({ summary: 'Fixed the parser.\n\n**Testing:**\n1. Ran `npm test`, all 40 passed.\n2. Added a case.\n\nOpen question: none.', files: ['a.ts'], verified: ['Ran `npm test`, all 40 passed.', 'Added a case.'] });
    expect(breadcrumbOf('Renamed the flag. I ran `pytest -q` and it passed. No open questions.', []).verified)
      .toEqual(['I ran `pytest -q` and it passed.']);
    expect(breadcrumbOf('Made 1 edit(s): src/colours.txt.', ['src/colours.txt']).verified).toEqual([]);
  });
});
