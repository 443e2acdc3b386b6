import { BUSY_WINDOW_MS } from '../headline.js';
import type { BusySample, ReviewWait } from '../view.js';
import { formatUtcTime, html, type Html } from './html.js';
import { formatDuration } from '../../text.js';

const COLOURS = {
  runningFill: '#b6d4fe',
  running: '#0969da',
  queued: '#bc4c00',
  slots: '#59636e',
  axis: '#d1d9e0',
  reviewed: '#54aeff',
  waiting: '#d4a72c',
};

const MIN_SPAN = 60 * 1000;

/** Rounded to a tenth: enough for a 600-unit viewBox, and keeps the markup short. */
const r = (n: number) => Math.round(n * 10) / 10;

function emptyChart(id: string, label: string, text: string): string {
  return html`<svg id="${id}" role="img" aria-label="${label}" viewBox="0 0 600 60" xmlns="http://www.w3.org/2000/svg"><text class="empty" x="300" y="34" text-anchor="middle">${text}</text></svg>`
    .text;
}

/** The samples in the window, the first one moved to the window's start to carry the state it began in. */
function samplesInWindow(samples: BusySample[], start: number, now: number): BusySample[] {
  const sorted = [...samples].filter((s) => s.at <= now).sort((a, b) => a.at - b.at);
  const before = sorted.filter((s) => s.at <= start).at(-1);
  const inside = sorted.filter((s) => s.at > start);
  return before ? [{ ...before, at: start }, ...inside] : inside;
}

export interface BusyChartOptions {
  /** How far back the chart reaches; six hours unless told. */
  windowMs?: number;
  width?: number;
  height?: number;
}

/** A step chart of agents running (area) and runs queued (line) up to `now`, with the slot cap dashed. */
export function busyChart(samples: BusySample[], slots: number, now: number, options: BusyChartOptions = {}): string {
  const { windowMs = BUSY_WINDOW_MS, width = 600, height = 180 } = options;
  const first = samples.filter((s) => s.at <= now).reduce((min, s) => Math.min(min, s.at), Infinity);
  if (first === Infinity) return emptyChart('busy-chart', 'Agents busy: no runs yet', 'No runs yet');

  const start = now - Math.min(windowMs, Math.max(MIN_SPAN, now - first));
  const points = samplesInWindow(samples, start, now);
  const yMax = Math.max(1, slots, ...points.map((p) => Math.max(p.running, p.queued)));

  const pad = { left: 28, right: 52, top: 14, bottom: 20 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (at: number) => r(pad.left + ((at - start) / (now - start)) * plotW);
  const y = (v: number) => r(pad.top + plotH - (v / yMax) * plotH);
  const xEnd = x(now);
  const baseline = y(0);

  const x0 = x(points[0]!.at);
  const stepsFrom = (value: (p: BusySample) => number) =>
    points.map((p, i) => `V${y(value(p))}H${x(points[i + 1]?.at ?? now)}`).join('');
  const runningPath = `M${x0},${baseline}${stepsFrom((p) => p.running)}V${baseline}Z`;
  const queuedPath = `M${x0},${y(points[0]!.queued)}${stepsFrom((p) => p.queued)}`;

  const last = points.at(-1)!;
  const peakRunning = Math.max(...points.map((p) => p.running));
  const peakQueued = Math.max(...points.map((p) => p.queued));
  const label =
    `Agents busy from ${formatUtcTime(start)} to ${formatUtcTime(now)}: at most ${peakRunning} of ${slots} slots running ` +
    `and ${peakQueued} queued; now ${last.running} running, ${last.queued} queued`;

  return html`<svg id="busy-chart" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
<line class="axis" x1="${pad.left}" y1="${baseline}" x2="${xEnd}" y2="${baseline}" stroke="${COLOURS.axis}"/>
<path class="running" d="${runningPath}" fill="${COLOURS.runningFill}" stroke="${COLOURS.running}" stroke-width="1"/>
<path class="queued" d="${queuedPath}" fill="none" stroke="${COLOURS.queued}" stroke-width="1.5"/>
<line class="slots" x1="${pad.left}" y1="${y(slots)}" x2="${xEnd}" y2="${y(slots)}" stroke="${COLOURS.slots}" stroke-dasharray="4 3"/>
<text x="${xEnd + 4}" y="${y(slots) + 4}">${slots} slots</text>
<text x="${pad.left - 4}" y="${pad.top + 4}" text-anchor="end">${yMax}</text>
<text x="${pad.left - 4}" y="${baseline + 4}" text-anchor="end">0</text>
<text x="${pad.left}" y="${height - 4}">${formatUtcTime(start)}</text>
<text x="${xEnd}" y="${height - 4}" text-anchor="end">${formatUtcTime(now)}</text>
${legend(pad.left + 8, 10)}
</svg>`.text;
}

function legend(left: number, top: number): Html {
  return html`<g class="legend"><rect x="${left}" y="${top - 8}" width="10" height="8" fill="${COLOURS.runningFill}" stroke="${COLOURS.running}"/><text x="${left + 14}" y="${top}">running</text><line x1="${left + 70}" y1="${top - 4}" x2="${left + 80}" y2="${top - 4}" stroke="${COLOURS.queued}" stroke-width="1.5"/><text x="${left + 84}" y="${top}">queued</text></g>`;
}

const MAX_BARS = 20;

/** One bar per PR (the newest 20, newest on top), as long as it waited, or has been waiting, for its first review. */
export function reviewWaitChart(waits: ReviewWait[]): string {
  if (waits.length === 0) return emptyChart('review-wait-chart', 'Review wait: no PRs yet', 'No PRs yet');
  const rows = [...waits]
    .sort((a, b) => b.at - a.at)
    .slice(0, MAX_BARS)
    .map((w) => ({ ...w, wait: w.waitMs }));

  const width = 600;
  const rowH = 20;
  const labelW = 64;
  const durationW = 100;
  const height = rows.length * rowH + 8;
  const longest = Math.max(1, ...rows.map((w) => w.wait));
  const barW = (ms: number) => r(Math.max(2, (Math.max(0, ms) / longest) * (width - labelW - durationW)));

  const bars = rows.map((w, i) => {
    const top = 4 + i * rowH;
    const state = w.waiting ? 'waiting' : 'reviewed';
    const colour = w.waiting ? COLOURS.waiting : COLOURS.reviewed;
    const len = barW(w.wait);
    const tip = `${w.repo}#${w.pr}: ${w.waiting ? 'waiting for' : 'waited'} ${formatDuration(w.wait)}`;
    return html`<g><text x="${labelW - 6}" y="${top + 13}" text-anchor="end">#${w.pr}</text>
<rect class="bar ${state}" data-pr="${w.pr}" data-repo="${w.repo}" x="${labelW}" y="${top + 2}" width="${len}" height="${rowH - 6}" rx="2" fill="${colour}"><title>${tip}</title></rect>
<text x="${r(labelW + len + 4)}" y="${top + 13}">${formatDuration(w.wait)}${w.waiting ? ' (waiting)' : ''}</text></g>
`;
  });

  const waiting = rows.filter((w) => w.waiting).length;
  const label =
    `Review wait for the newest ${rows.length} PRs: ${waiting} still waiting; longest ${formatDuration(longest)}`;
  return html`<svg id="review-wait-chart" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
${bars}</svg>`.text;
}
