import type { ReadyGroup, ReadyPull } from '../view.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { formatUsd, html, renderPage, runPath, type Html } from './html.js';
import { clip, formatDuration } from '../../text.js';

const SUMMARY_CHARS = 600;
const FILES_SHOWN = 12;

/** The PRs waiting for a person's review, by area, served at `<prefix>/review`. */
export function renderReadyPage(groups: ReadyGroup[], options: { nonce: string; now: number }): string {
  const count = groups.reduce((n, g) => n + g.pulls.length, 0);
  const body = html`<header>
<p><a href="./">← All issues</a></p>
</header>
<main id="ready-for-review">
<h1>Ready for review <span class="count">${count}</span></h1>
<p class="note">Agent PRs whose next step is a person’s review (a first review, or a re-review after a revision), grouped by the folders they change so that one part of the code is read once; the longest waiting first.</p>
${groups.length === 0 ? html`<p class="note" id="nothing-ready">No PR waits for a review.</p>` : groups.map((g) => group(g, options))}
</main>`;
  return renderPage({ nonce: options.nonce, title: 'Ready for review · agent-mapreduce', body, script: DASHBOARD_SCRIPT });
}

function group(g: ReadyGroup, options: { now: number }): Html {
  return html`<section class="area" data-repo="${g.repo}" data-area="${g.area}">
<h2>${g.repo} · <code>${g.area}</code> <span class="count">${g.pulls.length}</span></h2>
<ol class="ready-pulls">
${g.pulls.map((p) => pull(p, options))}</ol>
</section>
`;
}

function pull(p: ReadyPull & { alsoTouches: string[] }, options: { now: number }): Html {
  const meta = [
    html`<span class="waited">waiting ${formatDuration(options.now - p.since)} for a ${p.review === 'first' ? 'first review' : 're-review'}</span>`,
    html`${formatUsd(p.costUsd)}`,
    html`${p.revisionRounds} revision ${p.revisionRounds === 1 ? 'round' : 'rounds'}`,
  ];
  if (p.checks) meta.push(html`<span class="checks ${p.checks}">checks ${p.checks}</span>`);
  if (p.alsoTouches.length > 0) meta.push(html`also touches ${p.alsoTouches.map((a, i) => html`${i > 0 ? ', ' : ''}<code>${a}</code>`)}`);
  return html`<li class="ready" data-pr="${p.pr}" data-issue="${p.repo}#${p.issue}">
<p><a href="${p.url}" target="_blank" rel="noopener">PR #${p.pr}</a> <span class="title">${p.title}</span> · <a href="${p.issueUrl}" target="_blank" rel="noopener">#${p.issue}</a> · <a href="${runPath(p.repo, p.issue)}">run</a> · into ${p.base}</p>
<p class="meta">${meta.flatMap((part, i) => (i === 0 ? [part] : [' · ', part]))}</p>
${p.summary !== undefined ? html`<p class="summary">${clip(p.summary, SUMMARY_CHARS)}</p>` : html`<p class="note">Opened before this process started: its summary is in the PR.</p>`}
${p.files !== undefined && files(p.files)}
${p.verified !== undefined && verified(p.verified)}
</li>
`;
}

function files(list: string[]): Html {
  const hidden = list.length - FILES_SHOWN;
  return html`<p class="files-heading">${list.length} ${list.length === 1 ? 'file' : 'files'}:</p><ul class="files">${list.slice(0, FILES_SHOWN).map((f) => html`<li><code>${f}</code></li>`)}${hidden > 0 && html`<li class="more">… and ${hidden} more</li>`}</ul>`;
}

function verified(lines: string[]): Html {
  if (lines.length === 0) return html`<p class="verified none">The agent’s summary does not say how it verified the change.</p>`;
  return html`<p class="verified-heading">Verified:</p><ul class="verified">${lines.map((l) => html`<li>${l}</li>`)}</ul>`;
}
