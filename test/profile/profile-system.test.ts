/**
 * The profile of a whole run, end to end: the app in its own process against the local GitHub and
 * the scripted model, /metrics scraped over HTTP, and the dashboard opened in headless Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { findProgram } from '../support/find-program.js';
import { metricValue, parsePrometheusText, type Sample } from '../support/prometheus-text.js';
import { editLine } from '../support/scripted-model.js';
import { leadTime, phaseSecondsSum, phasesWithoutCi, readBars } from './phase-bars.js';

const REPO = 'octo-org/widgets';
const TOKEN = 'dashboard-token-for-the-tests-0001';
const PUBLIC_URL = 'https://agents.example.com/tools/agent-mapreduce';
const SCREENSHOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-output/dashboard.png');
const TIMELINE_SCREENSHOT = path.join(path.dirname(SCREENSHOT), 'timeline.png');
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

let system: System;
let cycleIssue = 0;
/** The label → merge time of each merged issue, as the test saw it, and the phase seconds /metrics gave for it. */
const leads = new Map<number, { ms: number; metricSeconds: number }>();

beforeAll(async () => {
  system = await startSystem({ env: { MAX_AGENTS: '2', DASHBOARD_TOKEN: TOKEN, DASHBOARD_URL: PUBLIC_URL } });
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

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${system.app.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const samples = parsePrometheusText(await response.text());
  expect(samples.filter((s) => !s.name.startsWith('agent_mapreduce_'))).toEqual([]);
  return samples;
}

describe('the profile of a whole run', () => {
  it('/metrics counts a label → PR → changes requested → revision → approval → merge cycle', async () => {
    const { github, model } = system;
    cycleIssue = github.openIssue(REPO, { title: 'Green should be teal', body: editLine('src/colours.txt', 'green', 'teal') });
    const labelledAt = Date.now();
    github.label(REPO, cycleIssue, 'agent');

    const pull = await waitUntil('the PR', () => github.pullsFor(REPO, cycleIssue)[0]);
    const check = await waitUntil('the check run', () =>
      github.repo(REPO).checkRuns.find((r) => r.name === 'agent-mapreduce' && r.headSha === pull.pull!.headSha));
    expect(check.detailsUrl).toBe(`${PUBLIC_URL}/runs/${REPO}/${cycleIssue}`);
    // a person reviews once the run that opened the PR has ended (its labels and check are written
    // after the PR): a review within those milliseconds would leave the issue no time with a person
    await waitUntil('the map run to end', async () => metricValue(await scrape(), 'agent_mapreduce_runs_total', { work: 'map' }) === 1);

    github.review(REPO, pull.number, { state: 'CHANGES_REQUESTED', body: `Cyan, please.\n\n${editLine('src/colours.txt', 'teal', 'cyan')}` });
    await waitUntil('the revision', async () => (await github.readFile(REPO, pull.pull!.head, 'src/colours.txt')) === 'red\ncyan\nblue\n');
    await waitUntil('the revision run to end', async () => metricValue(await scrape(), 'agent_mapreduce_runs_total', { work: 'revision' }) === 1);
    github.review(REPO, pull.number, { state: 'APPROVED', body: 'Good' });
    await waitUntil('the merge', () => pull.pull!.merged);
    await waitUntil('the merge to be counted', async () => metricValue(await scrape(), 'agent_mapreduce_merges_total') === 1);
    // the pass that merged goes on (branch deleted, clone synced, order shown) and is counted when it ends
    await waitUntil('the merging pass to end', async () => metricValue(await scrape(), 'agent_mapreduce_reduce_passes_total', { repository: REPO }) >= 1);

    const m = await scrape();
    const value = (name: string, labels: Record<string, string> = {}) => metricValue(m, name, labels);
    expect(value('agent_mapreduce_runs_total', { work: 'map', outcome: 'pr-opened' })).toBe(1);
    expect(value('agent_mapreduce_runs_total', { work: 'revision', outcome: 'revised' })).toBe(1);
    expect(value('agent_mapreduce_runs_total')).toBe(2);
    expect(value('agent_mapreduce_run_duration_seconds_count', { work: 'map', outcome: 'pr-opened' })).toBe(1);
    expect(value('agent_mapreduce_run_duration_seconds_sum', { work: 'map' })).toBeGreaterThan(0);
    expect(value('agent_mapreduce_queue_wait_seconds_count', { work: 'map' })).toBe(1);
    expect(value('agent_mapreduce_review_wait_seconds_count')).toBe(1);
    expect(value('agent_mapreduce_revision_turnaround_seconds_count')).toBe(1);
    expect(value('agent_mapreduce_revision_turnaround_seconds_sum')).toBeGreaterThan(0);
    expect(value('agent_mapreduce_revision_rounds_count')).toBe(1);
    expect(value('agent_mapreduce_revision_rounds_sum')).toBe(1);
    expect(value('agent_mapreduce_merge_wait_seconds_count')).toBe(1);
    expect(value('agent_mapreduce_merges_total', { repository: REPO })).toBe(1);
    expect(value('agent_mapreduce_reduce_passes_total', { repository: REPO, result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value('agent_mapreduce_reduce_passes_total', { result: 'error' })).toBe(0);
    expect(value('agent_mapreduce_conflicts_total')).toBe(0);
    expect(value('agent_mapreduce_issues', { stage: 'merged' })).toBe(1);
    expect(value('agent_mapreduce_agents_running')).toBe(0);
    expect(value('agent_mapreduce_agents_queued')).toBe(0);
    expect(value('agent_mapreduce_agent_slots')).toBe(2);
    // where the time went: every phase observed once, and together they are the label → merge time
    for (const phase of ['queued', 'agent', 'person', 'revising', 'ci']) expect(value('agent_mapreduce_issue_phase_seconds_count', { phase })).toBe(1);
    for (const phase of ['agent', 'person', 'revising']) expect(value('agent_mapreduce_issue_phase_seconds_sum', { phase })).toBeGreaterThan(0);
    const lead = leadTime(github, REPO, pull.number, labelledAt);
    expect(Math.abs(phaseSecondsSum(m) - lead / 1000)).toBeLessThan(1);
    leads.set(cycleIssue, { ms: lead, metricSeconds: phaseSecondsSum(m) });

    // the model: every request the fake answered was counted, and its tokens and cost
    const modelCalls = model.requests.filter((r) => r.path.split('?')[0] === '/v1/messages').length;
    expect(value('agent_mapreduce_model_requests_total', { status: '200' })).toBe(modelCalls);
    expect(value('agent_mapreduce_model_request_errors_total')).toBe(0);
    expect(value('agent_mapreduce_tokens_total', { repository: REPO, kind: 'input' })).toBeGreaterThan(0);
    expect(value('agent_mapreduce_tokens_total', { repository: REPO, kind: 'output' })).toBeGreaterThan(0);
    expect(value('agent_mapreduce_cost_usd_total', { repository: REPO })).toBeGreaterThan(0);

    // GitHub: the requests the local GitHub saw, by route
    const created = github.calls.filter((c) => c.operation === 'pulls/create').length;
    expect(value('agent_mapreduce_github_requests_total', { route: 'POST /repos/{owner}/{repo}/pulls', status: '201' })).toBe(created);
    expect(value('agent_mapreduce_github_requests_total', { route: 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', status: '200' })).toBe(1);
    expect(value('agent_mapreduce_github_request_errors_total')).toBe(
      github.calls.filter((c) => (c.status ?? 0) >= 400 && !c.path.includes('/access_tokens') && !c.path.startsWith('/app')).length);
    expect(github.problems).toEqual([]);
  });

  it('the dashboard shows the board, the merge order and the charts to a browser with the token, and nothing without it', async () => {
    const { github } = system;
    const first = github.openIssue(REPO, { title: 'Red should be crimson', body: editLine('src/colours.txt', 'red', 'crimson') });
    const second = github.openIssue(REPO, { title: 'Red should be scarlet', body: editLine('src/colours.txt', 'red', 'scarlet') });
    const vague = github.openIssue(REPO, { title: 'Make it nicer <script>alert(1)</script>', body: 'Somehow.' });
    const broken = github.openIssue(REPO, { title: 'Purple should be violet', body: editLine('src/colours.txt', 'purple', 'violet') });
    const labelledAt = Date.now();
    for (const issue of [first, second, vague, broken]) github.label(REPO, issue, 'agent');
    const before = phaseSecondsSum(await scrape());

    const pulls = await waitUntil('both PRs', () => {
      const found = [first, second].map((n) => github.pullsFor(REPO, n)[0]);
      return found.every((p) => p !== undefined) ? found.map((p) => p!) : undefined;
    }, 60_000);
    await waitUntil('the failed run', () => github.issue(REPO, broken).labels.includes('agent:failed'), 60_000);
    const dashboard = `${system.app.url}/agent-mapreduce/`;
    const authorized = { headers: { authorization: `Bearer ${TOKEN}` } };
    // both PRs wait for a first review: the Ready for review page lists them in their area, oldest first, with their breadcrumb
    const ready = await waitUntil('both PRs ready for review', async () => {
      const text = await (await fetch(`${dashboard}review`, authorized)).text();
      return pulls.every((p) => text.includes(`<li class="ready" data-pr="${p.number}"`)) && text;
    });
    const area = ready.slice(ready.indexOf('<section class="area" data-repo="octo-org/widgets" data-area="src">'));
    expect([...area.matchAll(/<li class="ready" data-pr="(\d+)"/g)].map((m) => Number(m[1]))).toEqual(pulls.map((p) => p.number).sort((a, b) => a - b));
    expect(area).toContain('Made 1 edit(s): src/colours.txt.');
    expect(area).toContain('<li><code>src/colours.txt</code></li>');
    expect(area).toMatch(/waiting [\d.]+ s for a first review/);
    for (const pull of pulls) github.review(REPO, pull.number, { state: 'APPROVED' });
    await waitUntil('one merged and one flagged', () =>
      pulls.some((p) => p.pull!.merged) && pulls.some((p) => p.labels.includes('agent:conflict')), 60_000);
    const flagged = pulls.find((p) => p.labels.includes('agent:conflict'))!;
    const merged = pulls.find((p) => p.pull!.merged)!;
    await waitUntil('the merge to be split into phases', async () => phaseSecondsSum(await scrape()) > before);
    const mergedIssue = merged === pulls[0] ? first : second;
    leads.set(mergedIssue, { ms: leadTime(github, REPO, merged.number, labelledAt), metricSeconds: phaseSecondsSum(await scrape()) - before });
    // the pass that flagged it ends once it has shown every PR its place: then the merge order lists it as flagged
    await waitUntil('the flagging pass to end', async () =>
      (await (await fetch(dashboard, { headers: { authorization: `Bearer ${TOKEN}` } })).text()).includes(`<li data-pr="${flagged.number}">`), 60_000);
    await waitUntil('the board to settle', async () => {
      const m = await scrape();
      return metricValue(m, 'agent_mapreduce_issues', { stage: 'ended' }) === 1 && metricValue(m, 'agent_mapreduce_agents_running') === 0;
    });

    const m = await scrape();
    expect(metricValue(m, 'agent_mapreduce_conflicts_total', { repository: REPO })).toBe(1);
    expect(Object.fromEntries(m.filter((s) => s.name === 'agent_mapreduce_issues').map((s) => [s.labels.stage, s.value])))
      .toEqual({ merged: 2, flagged: 1, failed: 1, ended: 1 });

    // refused without the token: no page, no data
    const refused = await fetch(dashboard);
    expect(refused.status).toBe(401);
    const refusedBody = await refused.text();
    expect(refusedBody).toContain('name="token"');
    expect(refusedBody).not.toContain('Red should be crimson');
    expect((await fetch(dashboard, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
    expect((await fetch(`${system.app.url}/agent-mapreduce/runs/${REPO}/${cycleIssue}`, { redirect: 'manual' })).status).toBe(303);
    const bearer = await fetch(dashboard, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toContain('Red should be crimson');

    const browser: Browser = await chromium.launch({ executablePath: findProgram('chromium'), args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('console', (message) => {
        // the login page comes with a 401, which Chromium reports; anything else is a fault of the page
        if (message.type() === 'error' && !message.text().includes('status of 401')) errors.push(message.text());
      });
      expect((await page.goto(`${system.app.url}/agent-mapreduce`))?.status()).toBe(401);
      await page.fill('input[name="token"]', 'a-wrong-token-of-some-length');
      await page.click('button[type="submit"]');
      await page.waitForSelector('p.error');
      expect(await page.textContent('p.error')).toContain('That token is not right.');

      await page.fill('input[name="token"]', TOKEN);
      await page.click('button[type="submit"]');
      await page.waitForSelector('#board');
      expect(page.url()).toBe(`${system.app.url}/agent-mapreduce/`);
      const count = (stage: string) => page.textContent(`section.stage[data-stage="${stage}"] .count`);
      expect(await count('merged')).toBe('2');
      expect(await count('flagged')).toBe('1');
      expect(await count('failed')).toBe('1');
      expect(await count('ended')).toBe('1');
      expect(await count('running')).toBe('0');
      expect(await count('queued')).toBe('0');
      expect(await page.locator(`section.stage[data-stage="failed"] li.card[data-issue="${REPO}#${broken}"]`).count()).toBe(1);
      expect(await page.locator('section.stage[data-stage="ended"] li.card').textContent()).toContain('Make it nicer <script>alert(1)</script>');
      expect(await page.locator(`#merge-order ul.flagged li[data-pr="${flagged.number}"]`).count()).toBe(1);
      expect(await page.locator('#busy-chart path.running').count()).toBeGreaterThan(0);
      expect(await page.locator('#review-wait-chart rect.bar').count()).toBe(3);
      expect(await page.locator('#cost-per-day tr[data-day]').count()).toBe(1);
      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      await page.click(`li.card[data-issue="${REPO}#${cycleIssue}"] a[href^="runs/"]`);
      await page.waitForSelector('#timeline');
      const steps = await page.locator('#timeline li').evaluateAll((items) => items.map((li) => li.getAttribute('data-what')));
      expect(steps).toEqual(expect.arrayContaining(['queued', 'started', 'step', 'pr-opened', 'review', 'revised', 'merged']));
      expect(steps.indexOf('pr-opened')).toBeLessThan(steps.indexOf('revised'));
      expect(steps.indexOf('revised')).toBeLessThan(steps.indexOf('merged'));

      await page.click('a[href="../../../"]');
      expect(await page.textContent('#person-share')).toMatch(/^\d+% of lead time waiting for people$/);
      expect(await page.textContent('#autonomous-stretch')).toMatch(/^mean autonomous stretch [\d.]+ (s|min)$/);
      await page.click('header nav a[href="timeline"]');
      await page.waitForSelector('#phase-chart');
      expect(await page.locator('ul.legend li').allTextContents()).toEqual(['queued', 'agent working', 'waiting for a person', 'agent revising', 'waiting for CI']);
      await page.screenshot({ path: TIMELINE_SCREENSHOT, fullPage: true });
      const bars = await readBars(page);
      const issues = [cycleIssue, first, second, vague, broken].map((n) => `${REPO}#${n}`);
      expect(bars.map((b) => b.issue).sort()).toEqual([...issues].sort());
      for (const bar of bars) {
        // in order, end to end, each segment drawn, adding up to the bar's time
        bar.segments.forEach((segment, i) => i > 0 && expect(segment.from).toBe(bar.segments[i - 1]!.from + bar.segments[i - 1]!.ms));
        expect(bar.segments.every((segment) => segment.width > 0)).toBe(true);
        expect(bar.segments.reduce((sum, segment) => sum + segment.ms, 0)).toBe(bar.leadMs);
      }
      const bar = (issue: number) => bars.find((b) => b.issue === `${REPO}#${issue}`)!;
      expect(phasesWithoutCi(bar(cycleIssue)).filter((p) => p !== 'queued')).toEqual(['agent', 'person', 'revising', 'person']);
      expect(['queued', 'agent']).toContain(bar(cycleIssue).segments[0]!.phase);
      for (const issue of [vague, broken]) {
        expect(bar(issue).state).toBe('paused');
        expect(phasesWithoutCi(bar(issue))).toEqual(expect.arrayContaining(['agent']));
        expect(phasesWithoutCi(bar(issue)).every((p) => p === 'queued' || p === 'agent')).toBe(true);
      }
      expect(leads.size).toBe(2);
      for (const [issue, lead] of leads) {
        expect(bar(issue).state).toBe('merged');
        expect(Math.abs(bar(issue).leadMs - lead.ms)).toBeLessThan(1000);
        expect(Math.abs(bar(issue).leadMs / 1000 - lead.metricSeconds)).toBeLessThan(1);
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(github.problems).toEqual([]);
  });
});
