import { describe, expect, it } from '@jest/globals';
import { renderDashboard } from '../../src/profile/dashboard/render-dashboard.js';
import { renderReadyPage } from '../../src/profile/dashboard/render-ready.js';
import { renderTimelinePage } from '../../src/profile/dashboard/render-timeline.js';
import type { DashboardView, IssueLifeView, ReadyGroup } from '../../src/profile/view.js';

const now = Date.UTC(2026, 10, 23, 12, 0);
const minutes = (n: number) => n * 60_000;
const hostile = '<img src=x onerror=alert(1)>';

function life(issue: number, state: IssueLifeView['state'], phases: Array<[IssueLifeView['spans'][number]['phase'], number]>, title = `Issue ${issue}`): IssueLifeView {
  const start = now - minutes(200 + issue);
  let at = start;
  const spans = phases.map(([phase, length]) => ({ phase, from: at, to: (at += minutes(length)) }));
  return { repo: 'octo/app', issue, title, url: `https://github.com/octo/app/issues/${issue}`, start, end: at, state, spans, dropped: 0 };
}

/** Each bar's issue, state and phases in the order drawn. */
function bars(page: string): Array<[string, string, string[]]> {
  return [...page.matchAll(/<g class="life" data-issue="([^"]+)" data-state="([^"]+)"[^]*?<\/g>/g)]
    .map((m) => [m[1]!, m[2]!, [...m[0].matchAll(/data-phase="([^"]+)"/g)].map((p) => p[1]!)]);
}

describe('the Where the time went page', () => {
  const lives = [
    life(1, 'merged', [['queued', 5], ['agent', 10], ['ci', 5], ['person', 60], ['revising', 8], ['person', 12]]),
    life(2, 'under-way', [['queued', 2], ['agent', 7], ['person', 30]], hostile),
    life(3, 'paused', [['agent', 3]]),
  ];
  const page = renderTimelinePage(lives, { nonce: 'n0nce' });

  it('draws one bar per issue, the latest started on top, its phases in order and as long as their time', () => {
    expect(bars(page)).toEqual([
      ['octo/app#1', 'merged', ['queued', 'agent', 'ci', 'person', 'revising', 'person']],
      ['octo/app#2', 'under-way', ['queued', 'agent', 'person']],
      ['octo/app#3', 'paused', ['agent']],
    ]);
    const widths = [...page.matchAll(/data-issue="octo\/app#1"[^]*?<\/g>/g)][0]![0].match(/width="[\d.]+"/g)!.map((w) => Number(w.slice(7, -1)));
    expect(widths[3]! / widths[1]!).toBeCloseTo(6, 1); // sixty minutes waiting for a person against ten of the agent
    expect(page).toContain('data-lead-ms="6000000"');
    expect(page).toContain('>1.7 h</text>');
    expect(page).toContain('39 min so far');
    expect(page).toContain('3 min (paused)');
    expect(page).toContain('href="runs/octo/app/1"');
  });

  it('explains the colours in a legend and sums the merged issues’ phases with their share of lead time', () => {
    expect([...page.matchAll(/<li data-phase="(\w+)">/g)].map((m) => m[1])).toEqual(['queued', 'agent', 'person', 'revising', 'ci']);
    expect(page).toContain('waiting for a person</li>');
    expect(page).toMatch(/<tr data-phase="person"><td>waiting for a person<\/td><td>1\.2 h<\/td><td>72%<\/td><\/tr>/);
    expect(page).toMatch(/<tr data-phase="ci"><td>waiting for CI<\/td><td>5 min<\/td><td>5%<\/td><\/tr>/);
    expect(page).toContain('Over the 1 merged issue remembered');
  });

  it('shows a hostile title as text and keeps to the page’s CSP', () => {
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain('<img');
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page).toContain('<a href="./">← All issues</a>');
    expect(renderTimelinePage([], { nonce: 'n' })).toContain('No issues yet');
  });
});

describe('the Ready for review page', () => {
  const groups: ReadyGroup[] = [{
    repo: 'octo/app',
    area: 'src/profile',
    pulls: [
      {
        repo: 'octo/app', issue: 4, title: hostile, issueUrl: 'https://github.com/octo/app/issues/4', pr: 41, url: 'https://github.com/octo/app/pull/41',
        base: 'main', review: 're-review', since: now - minutes(90), summary: 'Teal.\n\n## Verification\n- npm test', files: ['src/profile/a.ts', 'test/profile/a.test.ts'],
        verified: ['npm test: 12 passed'], checks: 'pending', costUsd: 0.42, revisionRounds: 1, alsoTouches: ['test/profile'],
      },
      {
        repo: 'octo/app', issue: 5, title: 'Rebuilt', issueUrl: 'https://github.com/octo/app/issues/5', pr: 51, url: 'https://github.com/octo/app/pull/51',
        base: 'main', review: 'first', since: now - minutes(20), costUsd: 0, revisionRounds: 0, alsoTouches: [],
      },
    ],
  }];
  const page = renderReadyPage(groups, { nonce: 'n0nce', now });

  it('heads each area with its PRs, oldest first, each with its breadcrumb and how long it waited', () => {
    expect(page).toContain('<section class="area" data-repo="octo/app" data-area="src/profile">');
    expect([...page.matchAll(/<li class="ready" data-pr="(\d+)"/g)].map((m) => m[1])).toEqual(['41', '51']);
    const first = page.slice(page.indexOf('data-pr="41"'), page.indexOf('data-pr="51"'));
    expect(first).toContain('waiting 1.5 h for a re-review');
    expect(first).toContain('$0.42 · 1 revision round');
    expect(first).toContain('checks pending');
    expect(first).toContain('also touches <code>test/profile</code>');
    expect(first).toContain('<li><code>src/profile/a.ts</code></li>');
    expect(first).toContain('<ul class="verified"><li>npm test: 12 passed</li></ul>');
    expect(first).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(first).toContain('href="runs/octo/app/4"');
    const second = page.slice(page.indexOf('data-pr="51"'));
    expect(second).toContain('waiting 20 min for a first review');
    expect(second).toContain('Opened before this process started');
    expect(page).not.toMatch(/\sstyle=/i);
    expect(renderReadyPage([], { nonce: 'n', now })).toContain('No PR waits for a review.');
  });
});

describe('the dashboard’s headline', () => {
  const view = (headline: DashboardView['headline']): DashboardView => ({
    now, startedAt: now - minutes(120), slots: 4, running: 1, queued: 0, writesWaiting: 0, issues: [], orders: [], busy: [], reviewWaits: [], costByDay: [], headline,
  });

  it('gives the people’s share of lead time, the agents’ mean autonomous stretch and the slots busy, and links the two pages', () => {
    const page = renderDashboard(view({ personShare: 0.625, meanStretchMs: minutes(12), busyShare: 0.4, ready: 3 }), { nonce: 'n' });
    expect(page).toContain('63% of lead time waiting for people');
    expect(page).toContain('mean autonomous stretch 12 min');
    expect(page).toContain('40% of agent slots busy');
    expect(page).toContain('<a href="review">3 PRs waiting for review</a>');
    expect(page).toContain('<a href="timeline">Where the time went</a>');
    const empty = renderDashboard(view({ ready: 0 }), { nonce: 'n' });
    expect(empty).toContain('No merged issue yet to split');
    expect(empty).toContain('no autonomous stretch ended yet');
  });
});
