import { describe, expect, it } from '@jest/globals';
import { busyChart, reviewWaitChart } from '../../src/profile/dashboard/charts.js';
import { DASHBOARD_SCRIPT } from '../../src/profile/dashboard/dashboard-script.js';
import { escapeHtml, formatUsd } from '../../src/profile/dashboard/html.js';
import { formatDuration } from '../../src/text.js';
import { renderDashboard } from '../../src/profile/dashboard/render-dashboard.js';
import { renderLogin } from '../../src/profile/dashboard/render-login.js';
import { renderRunPage } from '../../src/profile/dashboard/render-run.js';
import { STAGES, type DashboardView, type IssueSummary, type RunRecordView } from '../../src/profile/view.js';

const now = Date.UTC(2026, 10, 23, 12, 0);
const minutes = (n: number) => n * 60_000;
const hours = (n: number) => n * 3_600_000;
const hostile = '<img src=x onerror=alert(1)>';

function issue(n: number, stage: IssueSummary['stage'], extra: Partial<IssueSummary> = {}): IssueSummary {
  return {
    repo: 'octo/app',
    issue: n,
    title: `Fix thing ${n}`,
    url: `https://github.com/octo/app/issues/${n}`,
    stage,
    since: now - minutes(n),
    runs: 1,
    revisionRounds: 0,
    costUsd: 0.25,
    tokens: 1200,
    ...extra,
  };
}

function dashboardView(extra: Partial<DashboardView> = {}): DashboardView {
  return {
    now,
    startedAt: now - hours(2),
    slots: 3,
    running: 2,
    queued: 1,
    writesWaiting: 0,
    issues: [
      issue(1, 'queued'),
      issue(2, 'queued'),
      issue(3, 'running'),
      issue(4, 'pr-open', { pull: { number: 41, url: 'https://github.com/octo/app/pull/41', base: 'main' } }),
      issue(5, 'pr-open', { pull: { number: 51, url: 'https://github.com/octo/app/pull/51', base: 'main' }, revisionRounds: 2 }),
      issue(6, 'failed', { title: hostile, reason: `npm test exited 1 "quoted" <script>alert(2)</script> ${'x'.repeat(400)}` }),
    ],
    orders: [
      {
        repo: 'octo/app',
        base: 'main',
        at: now - minutes(5),
        order: [51, 41],
        waiting: [{ number: 71, reason: 'checks pending' }],
        flagged: [81],
      },
    ],
    busy: [
      { at: now - hours(8), running: 1, queued: 0 },
      { at: now - hours(3), running: 3, queued: 4 },
      { at: now - hours(1), running: 2, queued: 1 },
    ],
    reviewWaits: [
      { repo: 'octo/app', pr: 41, url: 'https://github.com/octo/app/pull/41', waitMs: hours(1), at: now - hours(1), waiting: true },
      { repo: 'octo/app', pr: 31, url: 'https://github.com/octo/app/pull/31', waitMs: minutes(20), at: now - hours(3), waiting: false },
    ],
    costByDay: [
      { day: '2026-11-21', usd: 1.5 },
      { day: '2026-11-22', usd: 2.25 },
      { day: '2026-11-23', usd: 0.5 },
    ],
    headline: { personShare: 0.62, meanStretchMs: minutes(4), busyShare: 0.41, ready: 2 },
    ...extra,
  };
}

/** The markup of the element that opens with `start`, up to its own closing tag (no nesting of the same tag assumed). */
function section(page: string, start: string, tag: string): string {
  const from = page.indexOf(start);
  expect(from).toBeGreaterThanOrEqual(0);
  return page.slice(from, page.indexOf(`</${tag}>`, from) + tag.length + 3);
}

const stageSection = (page: string, stage: string) => {
  const from = page.indexOf(`<section class="stage" data-stage="${stage}">`);
  expect(from).toBeGreaterThanOrEqual(0);
  return page.slice(from, page.indexOf('</ul>', from));
};

const countOf = (page: string, stage: string) => /<span class="count">(\d+)<\/span>/.exec(stageSection(page, stage))?.[1];

describe('dashboard page', () => {
  const page = renderDashboard(dashboardView(), { nonce: 'n0nce' });

  it('shows every stage with how many issues are in it, empty stages included', () => {
    for (const { stage, title } of STAGES) expect(stageSection(page, stage)).toContain(`<h2>${escapeHtml(title)} `);
    expect(countOf(page, 'queued')).toBe('2');
    expect(countOf(page, 'running')).toBe('1');
    expect(countOf(page, 'pr-open')).toBe('2');
    expect(countOf(page, 'failed')).toBe('1');
    expect(countOf(page, 'merged')).toBe('0');
  });

  it('links each card to its GitHub issue, its run page (relative) and its PR', () => {
    const card = section(page, '<li class="card" data-issue="octo/app#4">', 'li');
    expect(card).toContain('href="https://github.com/octo/app/issues/4"');
    expect(card).toContain('href="runs/octo/app/4">run</a>');
    expect(card).toContain('href="https://github.com/octo/app/pull/41"');
    expect(card).toContain('rel="noopener"');
    expect(card).toContain('4 min in stage');
    expect(card).toContain('$0.25');
    expect(page).not.toMatch(/href="\/(?!\/)/);
  });

  it('puts the issue waiting longest at the top of its stage and shows revision rounds', () => {
    const prOpen = stageSection(page, 'pr-open');
    expect(prOpen.indexOf('data-issue="octo/app#5"')).toBeLessThan(prOpen.indexOf('data-issue="octo/app#4"'));
    expect(prOpen).toContain('2 revision rounds');
  });

  it('shows a hostile title and reason as text, never as markup', () => {
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain('<img');
    expect(page).toContain('&quot;quoted&quot; &lt;script&gt;alert(2)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert');
    const reason = /<p class="reason">([^<]*)<\/p>/.exec(page)?.[1] ?? '';
    expect(reason.endsWith('…')).toBe(true);
    expect(reason.length).toBeLessThan(260);
  });

  it('sums up the load, the PRs waiting for review and what today cost in the header', () => {
    const totals = section(page, '<p id="totals">', 'p');
    expect(totals).toContain('2 / 3 agents running');
    expect(totals).toContain('1 queued');
    expect(totals).toContain('2 PRs waiting for review');
    expect(totals).toContain('$0.50 today');
    expect(totals).toContain('datetime="2026-11-23T10:00:00.000Z"');
    expect(page).toContain('<form method="post" action="logout"><button>Log out</button></form>');
    expect(totals).not.toContain('rate budget');
  });

  it('says in the header when GitHub writes wait for the rate budget', () => {
    const waiting = renderDashboard(dashboardView({ writesWaiting: 7 }), { nonce: 'n' });
    expect(section(waiting, '<p id="totals">', 'p')).toContain('7 GitHub writes waiting for the rate budget');
  });

  it('lists the merge order per repository and base, then the waiting and flagged PRs', () => {
    const merge = section(page, '<section id="merge-order">', 'section');
    expect(merge).toContain('<h3>octo/app → main</h3>');
    const order = section(merge, '<ol class="order">', 'ol');
    expect([...order.matchAll(/<li data-pr="(\d+)">/g)].map((m) => m[1])).toEqual(['51', '41']);
    expect(order).toContain('href="https://github.com/octo/app/pull/51"');
    expect(merge).toMatch(/<li data-pr="71">#71: checks pending<\/li>/);
    expect(merge).toContain('<li data-pr="81">#81</li>');
    expect(renderDashboard(dashboardView({ orders: [] }), { nonce: 'n' })).toContain('No merge pass yet');
  });

  it('lists the cost per day newest first with a total', () => {
    const table = section(page, '<table id="cost-per-day">', 'table');
    expect([...table.matchAll(/<tr data-day="([\d-]+)">/g)].map((m) => m[1])).toEqual(['2026-11-23', '2026-11-22', '2026-11-21']);
    expect(table).toContain('<tr data-day="2026-11-22"><td>2026-11-22</td><td>$2.25</td></tr>');
    expect(table).toMatch(/<th scope="row">Total<\/th><td>\$4\.25<\/td>/);
  });

  it('puts the style and the refresh script under the nonce, with no inline style attribute', () => {
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<style nonce="n0nce">');
    expect(page).toContain('<script nonce="n0nce">');
    expect(page).toMatch(/<main id="dashboard">[\s\S]*<section id="board"[\s\S]*<section id="merge-order">[\s\S]*<section id="charts">[\s\S]*<table id="cost-per-day">[\s\S]*<\/main>/);
    expect(page).not.toMatch(/\sstyle=/i);
  });

  it('shows at most 50 cards in a stage and says how many more there are', () => {
    const many = Array.from({ length: 53 }, (_, i) => issue(100 + i, 'merged'));
    const crowded = renderDashboard(dashboardView({ issues: many }), { nonce: 'n' });
    const merged = stageSection(crowded, 'merged');
    expect(countOf(crowded, 'merged')).toBe('53');
    expect(merged.match(/<li class="card"/g)).toHaveLength(50);
    expect(merged).toContain('+3 more');
  });
});

describe('charts', () => {
  const view = dashboardView();

  it('draws agents running as a filled step area over the last six hours, with the slot cap dashed', () => {
    const svg = busyChart(view.busy, view.slots, now);
    expect(svg).toMatch(/^<svg id="busy-chart" role="img" aria-label="[^"]+"/);
    expect(svg).toMatch(/<path class="running" d="M[\d.]+,[\d.]+V/);
    expect(svg).toContain('<path class="queued"');
    expect(svg).toMatch(/<line class="slots"[^>]*stroke-dasharray=/);
    expect(svg).toContain('>06:00 UTC</text>');
    expect(svg).toContain('>12:00 UTC</text>');
    expect(svg).toContain('>4</text>'); // y max: four queued beat three slots
    expect(svg).not.toMatch(/\sstyle=/);
  });

  it('says there were no runs when there are no samples', () => {
    const svg = busyChart([], 3, now);
    expect(svg).toContain('<svg id="busy-chart" role="img"');
    expect(svg).toContain('<text class="empty" x="300" y="34" text-anchor="middle">No runs yet</text>');
    expect(svg).not.toContain('class="running"');
  });

  it('draws one bar per PR, the ones still waiting marked as such', () => {
    const svg = reviewWaitChart(view.reviewWaits);
    expect(svg).toMatch(/^<svg id="review-wait-chart" role="img" aria-label="[^"]+"/);
    expect(svg).toMatch(/<rect class="bar waiting" data-pr="41"/);
    expect(svg).toMatch(/<rect class="bar reviewed" data-pr="31"/);
    expect(svg).toContain('>#41</text>');
    expect(svg).toContain('20 min');
    expect(svg.indexOf('data-pr="41"')).toBeLessThan(svg.indexOf('data-pr="31"'));
  });

  it('keeps only the newest 20 PRs and says so when there are none', () => {
    const waits = Array.from({ length: 25 }, (_, i) => ({
      repo: 'octo/app', pr: i + 1, url: `https://github.com/octo/app/pull/${i + 1}`, waitMs: minutes(i + 1), at: now - hours(25 - i), waiting: false,
    }));
    const svg = reviewWaitChart(waits);
    expect(svg.match(/<rect class="bar/g)).toHaveLength(20);
    expect(svg).not.toContain('data-pr="5"');
    expect(reviewWaitChart([])).toContain('<text class="empty" x="300" y="34" text-anchor="middle">No PRs yet</text>');
  });
});

describe('run page', () => {
  const run: RunRecordView = {
    ...issue(7, 'pr-open', { title: hostile, pull: { number: 70, url: 'https://github.com/octo/app/pull/70', base: 'main' }, revisionRounds: 1, tokens: 12345 }),
    timeline: [
      { at: now - minutes(30), what: 'started', detail: 'map run 1', count: 1 },
      { at: now - minutes(29), what: 'step', detail: 'read_file', count: 4 },
      { at: now - minutes(20), what: 'pr-opened', detail: '#70 "<b>bold</b>"', count: 1 },
    ],
    dropped: 12,
  };
  const page = renderRunPage(run, { nonce: 'r4nd', now });

  it('heads the page with the issue, links back to all issues and shows the totals', () => {
    expect(page).toContain('<a href="../../../">← All issues</a>');
    expect(page).toContain('href="https://github.com/octo/app/issues/7"');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain('<img');
    expect(page).toContain('href="https://github.com/octo/app/pull/70"');
    expect(page).toContain('12,345');
    expect(page).toContain('$0.25');
    expect(page).toContain('PR open, for 7 min');
  });

  it('lists the timeline with times, repeat counts and a note about the entries not kept', () => {
    const timeline = section(page, '<ol id="timeline">', 'ol');
    expect([...timeline.matchAll(/<li data-what="([^"]+)">/g)].map((m) => m[1])).toEqual(['started', 'step', 'pr-opened']);
    expect(timeline).toContain('<time datetime="2026-11-23T11:31:00.000Z" data-show="seconds">11:31:00 UTC</time>');
    expect(section(timeline, '<li data-what="step">', 'li')).toContain('×4');
    expect(section(timeline, '<li data-what="started">', 'li')).not.toContain('×');
    expect(timeline).toContain('#70 &quot;&lt;b&gt;bold&lt;/b&gt;&quot;');
    expect(page).toContain('… 12 earlier entries not kept');
    expect(page).toContain('<style nonce="r4nd">');
    expect(page).not.toMatch(/\sstyle=/i);
  });
});

describe('login page', () => {
  it('asks for the dashboard token with a relative form action', () => {
    const page = renderLogin({ nonce: 'l0g', failed: false });
    expect(page).toContain('<form method="post" action="login">');
    expect(page).toContain(
      '<label>Dashboard token <input type="password" name="token" autocomplete="current-password" required></label>',
    );
    expect(page).toContain('Open the dashboard</button>');
    expect(page).toContain('<style nonce="l0g">');
    expect(page).not.toContain('class="error"');
    expect(page).not.toMatch(/\sstyle=/i);
  });

  it('says the token was wrong after a failed attempt', () => {
    expect(renderLogin({ nonce: 'l0g', failed: true })).toContain('<p class="error" role="alert">That token is not right.</p>');
  });
});

describe('formatting and the page script', () => {
  it('formats durations and amounts the way the cards show them', () => {
    expect([45_000, minutes(12), hours(3.5), hours(24 * 2.1)].map(formatDuration)).toEqual(['45 s', '12 min', '3.5 h', '2.1 d']);
    expect([1.234, 0.004, 0].map(formatUsd)).toEqual(['$1.23', '$0.004', '$0.00']);
  });

  it('ships a script that parses as JavaScript and cannot close its own tag', () => {
    expect(() => new Function(DASHBOARD_SCRIPT)).not.toThrow();
    expect(DASHBOARD_SCRIPT).not.toMatch(/<\/script/i);
  });
});
