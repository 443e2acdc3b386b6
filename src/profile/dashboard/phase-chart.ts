import { PHASES, type Phase } from '../issue-life.js';
import type { IssueLifeView } from '../view.js';
import { formatUtcTime, html, runPath, type Html } from './html.js';
import { formatDuration } from '../../text.js';

export const PHASE_COLOURS: Record<Phase, string> = {
  queued: '#8c959f',
  agent: '#0969da',
  person: '#d4a72c',
  revising: '#8250df',
  ci: '#1b7c83',
};

export const PHASE_TITLES: Record<Phase, string> = {
  queued: 'queued',
  agent: 'agent working',
  person: 'waiting for a person',
  revising: 'agent revising',
  ci: 'waiting for CI',
};

const MAX_BARS = 50;
/** Wide enough for a sliver to show; the next segment starts after it, so the order always reads. */
const MIN_SEGMENT = 1.5;

/** Rounded to a tenth: enough for the viewBox, and keeps the markup short. */
const r = (n: number) => Math.round(n * 10) / 10;

/**
 * One bar per issue (the latest started 50, latest on top), each starting at its label and as long
 * as its life so far against the longest shown, split into its phases in order.
 */
export function phaseChart(lives: IssueLifeView[]): string {
  if (lives.length === 0) {
    return html`<svg id="phase-chart" role="img" aria-label="Where the time went: no issues yet" viewBox="0 0 760 60" xmlns="http://www.w3.org/2000/svg"><text class="empty" x="380" y="34" text-anchor="middle">No issues yet</text></svg>`.text;
  }
  const rows = [...lives].sort((a, b) => b.start - a.start).slice(0, MAX_BARS);
  const width = 760;
  const rowH = 22;
  const labelW = 70;
  const durationW = 120;
  const plotW = width - labelW - durationW;
  const height = rows.length * rowH + 8;
  const longest = Math.max(1, ...rows.map((life) => life.end - life.start));
  const bars = rows.map((life, i) => bar(life, { top: 4 + i * rowH, rowH, labelW, scale: plotW / longest }));
  const merged = rows.filter((life) => life.state === 'merged').length;
  const label = `Where the time went for the latest ${rows.length} issues (${merged} merged): one bar per issue, its phases in order; longest ${formatDuration(longest)}`;
  return html`<svg id="phase-chart" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
${bars}</svg>`.text;
}

function bar(life: IssueLifeView, layout: { top: number; rowH: number; labelW: number; scale: number }): Html {
  const { top, rowH, labelW, scale } = layout;
  let x = labelW;
  const segments = life.spans.map((span) => {
    const ms = span.to - span.from;
    const w = Math.max(MIN_SEGMENT, ms * scale);
    const tip = `${PHASE_TITLES[span.phase]}: ${formatDuration(ms)} (${formatUtcTime(span.from, true)} → ${formatUtcTime(span.to, true)})`;
    const rect = html`<rect class="phase ${span.phase}" data-phase="${span.phase}" data-from="${span.from}" data-ms="${ms}" x="${r(x)}" y="${top + 3}" width="${r(w)}" height="${rowH - 8}" fill="${PHASE_COLOURS[span.phase]}"><title>${tip}</title></rect>`;
    x += w;
    return rect;
  });
  const lead = life.end - life.start;
  const after = life.state === 'merged' ? '' : life.state === 'paused' ? ' (paused)' : ' so far';
  return html`<g class="life" data-issue="${life.repo}#${life.issue}" data-state="${life.state}" data-start="${life.start}" data-lead-ms="${lead}">
<a href="${runPath(life.repo, life.issue)}"><text x="${labelW - 6}" y="${top + 15}" text-anchor="end">#${life.issue}<title>${life.repo}#${life.issue}: ${life.title}</title></text></a>
${segments}
<text class="lead" x="${r(x + 4)}" y="${top + 15}">${formatDuration(lead)}${after}</text></g>
`;
}

/** The phases' totals over the merged issues shown, and each one's share of their lead time. */
export function phaseTotals(lives: IssueLifeView[]): Array<{ phase: Phase; ms: number; share: number }> {
  const totals = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
  for (const life of lives) {
    if (life.state !== 'merged') continue;
    for (const span of life.spans) totals.set(span.phase, totals.get(span.phase)! + span.to - span.from);
  }
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  return PHASES.map((phase) => ({ phase, ms: totals.get(phase)!, share: all > 0 ? totals.get(phase)! / all : 0 }));
}
