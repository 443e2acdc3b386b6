import { PHASES } from '../issue-life.js';
import type { IssueLifeView } from '../view.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { html, raw, renderPage } from './html.js';
import { PHASE_COLOURS, PHASE_TITLES, phaseChart, phaseTotals } from './phase-chart.js';
import { formatDuration } from '../../text.js';

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** Where each issue's time went, served at `<prefix>/timeline`: one bar per issue and the phases' totals. */
export function renderTimelinePage(lives: IssueLifeView[], options: { nonce: string }): string {
  const totals = phaseTotals(lives);
  const merged = lives.filter((life) => life.state === 'merged').length;
  const body = html`<header>
<p><a href="./">← All issues</a></p>
</header>
<main id="where-the-time-went">
<h1>Where the time went</h1>
<p class="note">Each issue from its label to its merge (or to now), one bar each, the latest started on top. An issue is always in one phase; hover a segment for its times.</p>
<ul class="legend">${PHASES.map((phase) => html`<li data-phase="${phase}"><svg class="swatch" viewBox="0 0 12 12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="${PHASE_COLOURS[phase]}"/></svg>${PHASE_TITLES[phase]}</li>`)}</ul>
<figure>${raw(phaseChart(lives))}</figure>
<h2>Over the ${merged} merged ${merged === 1 ? 'issue' : 'issues'} remembered</h2>
<table id="phase-totals">
<thead><tr><th scope="col">Phase</th><th scope="col">Time</th><th scope="col">Share of lead time</th></tr></thead>
<tbody>
${totals.map((t) => html`<tr data-phase="${t.phase}"><td>${PHASE_TITLES[t.phase]}</td><td>${formatDuration(t.ms)}</td><td>${merged > 0 ? percent(t.share) : '—'}</td></tr>
`)}</tbody>
</table>
<p class="note">The lead time counts from the run being queued (or held before the queue) to the merge. Waiting for a person covers first reviews, re-reviews and approvals to merge, and the time after a run that ended without a PR until someone brings the issue back. Revising covers revision and rebase runs, queued or going.</p>
</main>`;
  return renderPage({ nonce: options.nonce, title: 'Where the time went · agent-mapreduce', body, script: DASHBOARD_SCRIPT });
}
