import { STAGES, type RunRecordView, type TimelineEntry } from '../view.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { formatUsd, html, renderPage, timeTag, type Html } from './html.js';
import { formatDuration } from '../../text.js';

/** One issue's run record, served at `<prefix>/runs/<owner>/<name>/<issue>`. */
export function renderRunPage(run: RunRecordView, options: { nonce: string; now: number }): string {
  const stageTitle = STAGES.find((s) => s.stage === run.stage)?.title ?? run.stage;
  const body = html`<header>
<p><a href="../../../">← All issues</a></p>
</header>
<main id="run">
<h1><a href="${run.url}" target="_blank" rel="noopener">${run.repo}#${run.issue}</a> ${run.title}</h1>
<dl>
<dt>Stage</dt><dd data-stage="${run.stage}">${stageTitle}, for ${formatDuration(options.now - run.since)}</dd>
${run.reason !== undefined && run.reason !== '' && html`<dt>Reason</dt><dd class="reason">${run.reason}</dd>`}
<dt>Pull request</dt><dd>${run.pull ? html`<a href="${run.pull.url}" target="_blank" rel="noopener">#${run.pull.number}</a> into ${run.pull.base}` : 'none yet'}</dd>
<dt>Agent runs</dt><dd>${run.runs}</dd>
<dt>Revision rounds</dt><dd>${run.revisionRounds}</dd>
<dt>Tokens</dt><dd>${run.tokens.toLocaleString('en-US')}</dd>
<dt>Cost</dt><dd>${formatUsd(run.costUsd)}</dd>
</dl>
<h2>Timeline</h2>
${run.dropped > 0 && html`<p class="note">… ${run.dropped} earlier ${run.dropped === 1 ? 'entry' : 'entries'} not kept</p>`}
${run.timeline.length === 0 ? html`<p class="note">Nothing recorded yet.</p>` : html`<ol id="timeline">
${run.timeline.map(entry)}</ol>`}
</main>`;
  return renderPage({ nonce: options.nonce, title: `${run.repo}#${run.issue} · agent-mapreduce`, body, script: DASHBOARD_SCRIPT });
}

function entry(e: TimelineEntry): Html {
  return html`<li data-what="${e.what}">${timeTag(e.at, 'seconds')} <span class="what">${e.what}</span> <span class="detail">${e.detail}</span>${e.count > 1 && html` <span class="count">×${e.count}</span>`}</li>
`;
}
