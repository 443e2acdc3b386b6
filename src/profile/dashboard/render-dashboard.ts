import { STAGES, type DashboardView, type Headline, type IssueSummary, type MergeOrderView } from '../view.js';
import { busyChart, reviewWaitChart } from './charts.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { formatUsd, html, raw, renderPage, runPath, timeTag, type Html } from './html.js';
import { clip, formatDuration } from '../../text.js';

const CARDS_PER_STAGE = 50;
const REASON_CHARS = 200;

/** The whole dashboard as one server-rendered page; every link is relative so it works under any path prefix. */
export function renderDashboard(view: DashboardView, options: { nonce: string; title?: string }): string {
  const title = options.title ?? 'agent-mapreduce';
  const body = html`<header>
<h1>${title}</h1>
<nav><a href="review">Ready for review</a> · <a href="timeline">Where the time went</a></nav>
${totals(view)}
<form method="post" action="logout"><button>Log out</button></form>
</header>
<main id="dashboard">
${board(view)}
${mergeOrders(view)}
${charts(view)}
${costPerDay(view)}
</main>`;
  return renderPage({ nonce: options.nonce, title, body, script: DASHBOARD_SCRIPT });
}

function totals(view: DashboardView): Html {
  const today = new Date(view.now).toISOString().slice(0, 10);
  const costToday = view.costByDay.find((d) => d.day === today)?.usd ?? 0;
  return html`<p id="totals"><span>${view.running} / ${view.slots} agents running</span> · <span>${view.queued} queued</span> · <a href="review">${view.headline.ready} PRs waiting for review</a> · <span>${formatUsd(costToday)} today</span>${view.writesWaiting > 0 ? html` · <span class="waiting">${view.writesWaiting} GitHub writes waiting for the rate budget</span>` : ''} · ${bandwidth(view.headline)}
<span class="note">Since ${timeTag(view.startedAt, 'date')}; what happened before was rebuilt from GitHub.</span></p>`;
}

/** The people's share of the lead time, how long agents go on their own, and how busy their slots are. */
function bandwidth(headline: Headline): Html {
  const percent = (share: number) => `${Math.round(share * 100)}%`;
  return html`<span id="bandwidth"><span id="person-share" title="Of the merged issues’ time from label to merge, the share spent waiting for a person (first review, re-review, approval)">${
    headline.personShare === undefined ? 'No merged issue yet to split' : html`${percent(headline.personShare)} of lead time waiting for people`
  }</span> · <span id="autonomous-stretch" title="The agents’ running time on one issue between two touches by a person (map, revision and rebase runs added up)">${
    headline.meanStretchMs === undefined ? 'no autonomous stretch ended yet' : html`mean autonomous stretch ${formatDuration(headline.meanStretchMs)}`
  }</span> · <span id="busy-share" title="Agents running as a share of the slots over the last six hours">${
    headline.busyShare === undefined ? 'no runs yet' : html`${percent(headline.busyShare)} of agent slots busy`
  }</span></span>`;
}

function board(view: DashboardView): Html {
  const stages = STAGES.map(({ stage, title }) => {
    const cards = view.issues.filter((i) => i.stage === stage).sort((a, b) => a.since - b.since);
    const hidden = cards.length - CARDS_PER_STAGE;
    return html`<section class="stage" data-stage="${stage}">
<h2>${title} <span class="count">${cards.length}</span></h2>
<ul class="cards">
${cards.slice(0, CARDS_PER_STAGE).map((issue) => card(issue, view.now))}${hidden > 0 && html`<li class="more">+${hidden} more</li>`}
</ul>
</section>
`;
  });
  return html`<section id="board" aria-label="Issues by stage">
${stages}</section>`;
}

function card(issue: IssueSummary, now: number): Html {
  const meta = [html`${formatDuration(now - issue.since)} in stage`, html`${formatUsd(issue.costUsd)}`];
  if (issue.revisionRounds > 0) meta.push(html`${issue.revisionRounds} revision ${issue.revisionRounds === 1 ? 'round' : 'rounds'}`);
  return html`<li class="card" data-issue="${issue.repo}#${issue.issue}">
<p><a href="${issue.url}" target="_blank" rel="noopener">${issue.repo}#${issue.issue}</a> · <a href="${runPath(issue.repo, issue.issue)}">run</a>${
    issue.pull && html` · <a href="${issue.pull.url}" target="_blank" rel="noopener">PR #${issue.pull.number}</a>`
  }</p>
<p class="title">${issue.title}</p>
<p class="meta">${meta.flatMap((part, i) => (i === 0 ? [part] : [' · ', part]))}</p>
${issue.reason !== undefined && issue.reason !== '' && html`<p class="reason">${clip(issue.reason, REASON_CHARS)}</p>`}
</li>
`;
}

function mergeOrders(view: DashboardView): Html {
  const content =
    view.orders.length === 0
      ? html`<p class="note">No merge pass yet.</p>`
      : view.orders.map((order) => mergeOrder(order, view.issues));
  return html`<section id="merge-order">
<h2>Merge order</h2>
${content}
</section>`;
}

function mergeOrder(order: MergeOrderView, issues: IssueSummary[]): Html {
  const pr = (n: number) => {
    const issue = issues.find((i) => i.repo === order.repo && i.pull?.number === n);
    if (!issue?.pull) return html`#${n}`;
    return html`<a href="${issue.pull.url}" target="_blank" rel="noopener">#${n}</a> <span class="muted">${issue.title}</span>`;
  };
  return html`<h3>${order.repo} → ${order.base}</h3>
<p class="note">Planned at ${timeTag(order.at)}.</p>
${
  order.order.length === 0
    ? html`<p class="note">Nothing left to merge.</p>`
    : html`<ol class="order">${order.order.map((n) => html`<li data-pr="${n}">${pr(n)}</li>`)}</ol>`
}
${
  order.waiting.length > 0 &&
  html`<p>Waiting:</p><ul class="waiting">${order.waiting.map((w) => html`<li data-pr="${w.number}">${pr(w.number)}: ${clip(w.reason, REASON_CHARS)}</li>`)}</ul>`
}
${
  order.flagged.length > 0 &&
  html`<p>Flagged:</p><ul class="flagged">${order.flagged.map((n) => html`<li data-pr="${n}">${pr(n)}</li>`)}</ul>`
}
`;
}

function charts(view: DashboardView): Html {
  return html`<section id="charts">
<figure>
<figcaption><h2>Agents busy</h2><p class="note">Agents running (area) and runs queued (line) over the last six hours; the dashed line is the slot cap.</p></figcaption>
${raw(busyChart(view.busy, view.slots, view.now))}
</figure>
<figure>
<figcaption><h2>Review wait</h2><p class="note">How long each of the newest PRs waited for its first review; amber bars are still waiting.</p></figcaption>
${raw(reviewWaitChart(view.reviewWaits))}
</figure>
</section>`;
}

function costPerDay(view: DashboardView): Html {
  const days = [...view.costByDay].sort((a, b) => b.day.localeCompare(a.day));
  const total = days.reduce((sum, d) => sum + d.usd, 0);
  return html`<section id="cost">
<h2>Cost per day</h2>
<table id="cost-per-day">
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Cost</th></tr></thead>
<tbody>
${days.length === 0 && html`<tr><td colspan="2" class="note">No cost yet</td></tr>`}${days.map(
    (d) => html`<tr data-day="${d.day}"><td>${d.day}</td><td>${formatUsd(d.usd)}</td></tr>
`,
  )}</tbody>
<tfoot><tr class="total"><th scope="row">Total</th><td>${formatUsd(total)}</td></tr></tfoot>
</table>
</section>`;
}
