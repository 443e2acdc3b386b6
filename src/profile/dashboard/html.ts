/** Markup that is already safe to put in a page; anything else interpolated into `html` is escaped. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlPart = Html | string | number | boolean | null | undefined | readonly HtmlPart[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Trusts the given markup as is: only for strings this module's callers built themselves. */
export const raw = (text: string): Html => new Html(text);

function renderPart(part: HtmlPart): string {
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(renderPart).join('');
  if (part === null || part === undefined || typeof part === 'boolean') return '';
  return escapeHtml(String(part));
}

/** Escapes every interpolated value unless it is `Html`; arrays are joined, and `false`/`undefined` render nothing so `cond && html\`…\`` works. */
export function html(strings: TemplateStringsArray, ...values: HtmlPart[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += renderPart(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** "$1.23"; amounts under a cent keep three decimals ("$0.004") so small runs do not all read "$0.00". */
export function formatUsd(n: number): string {
  if (n === 0 || Math.abs(n) >= 0.01) return `$${n.toFixed(2)}`;
  if (Math.abs(n) < 0.001) return '<$0.001';
  return `$${n.toFixed(3)}`;
}

/** "12:05 UTC", or "12:05:09 UTC" with seconds. */
export function formatUtcTime(ms: number, withSeconds = false): string {
  return `${new Date(ms).toISOString().slice(11, withSeconds ? 19 : 16)} UTC`;
}

/** "2026-11-23 12:05 UTC". */
export function formatUtcDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)} ${formatUtcTime(ms)}`;
}

/**
 * A `<time>` the page script rewrites to the reader's local time; `show` tells it what to keep
 * (the server text is UTC so the page reads right without the script).
 */
export function timeTag(ms: number, show: 'time' | 'seconds' | 'date' = 'time'): Html {
  const text = show === 'date' ? formatUtcDateTime(ms) : formatUtcTime(ms, show === 'seconds');
  return html`<time datetime="${new Date(ms).toISOString()}" data-show="${show}">${text}</time>`;
}

/** `runs/<owner>/<name>/<issue>`, relative to the dashboard's own address. */
export function runPath(repo: string, issue: number): string {
  return `runs/${repo.split('/').map(encodeURIComponent).join('/')}/${issue}`;
}

const CSS = `
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--accent:#0969da;--warn:#9a6700;--bad:#cf222e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main{padding:12px 20px}
header{background:#fff;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px}
header form{margin-left:auto}
h1{font-size:18px;margin:0}h2{font-size:15px;margin:0 0 8px}h3{font-size:14px;margin:12px 0 4px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
p{margin:4px 0}.note,.muted{color:var(--muted)}
button{font:inherit;padding:4px 12px;border:1px solid var(--line);border-radius:6px;background:#fff;cursor:pointer}
main>section{margin:0 0 28px}
#board{display:grid;grid-template-columns:repeat(auto-fill,minmax(145px,1fr));gap:8px;padding-bottom:6px;align-items:start}
.stage{background:#eaeef2;border-radius:8px;padding:8px;min-width:0}
.stage h2{display:flex;justify-content:space-between;align-items:center}
.count{background:#fff;border-radius:10px;padding:0 8px;font-weight:400}
.cards{list-style:none;margin:0;padding:0;display:grid;gap:6px}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:6px 8px;overflow-wrap:anywhere}
.card p{margin:2px 0}.card .meta{color:var(--muted);font-size:12px}
.reason{color:var(--bad);font-size:12px}.stage[data-stage=flagged] .reason,.stage[data-stage=ended] .reason{color:var(--warn)}
.more{color:var(--muted);text-align:center;list-style:none}
#charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px}
figcaption{margin-bottom:6px}
svg{width:100%;height:auto;display:block}svg text{font-size:11px;fill:var(--muted)}
table{border-collapse:collapse;background:#fff;min-width:240px}
td,th{padding:4px 12px;border-bottom:1px solid var(--line);text-align:left}
td:last-child{text-align:right;font-variant-numeric:tabular-nums}
tfoot th,tfoot td{font-weight:600;border-bottom:0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{color:var(--muted)}dd{margin:0}
#timeline{list-style:none;padding:0;background:#fff;border:1px solid var(--line);border-radius:8px}
#timeline li{display:grid;grid-template-columns:8em 9em 1fr auto;gap:8px;padding:4px 10px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
#timeline li:last-child{border-bottom:0}#timeline .what{font-weight:600}
.login{max-width:380px;margin:12vh auto;background:#fff;padding:20px;border:1px solid var(--line);border-radius:8px}
.login label{display:grid;gap:4px;margin:12px 0}.login input{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:6px}
.error{color:var(--bad)}
header nav{font-weight:600}#bandwidth{display:inline}
.stage[data-stage=queued] .reason{color:var(--warn)}
.legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 16px}
svg.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px}
.area{margin:0 0 20px}.ready-pulls{list-style:none;padding:0;display:grid;gap:8px}
.ready{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 12px;overflow-wrap:anywhere}
.ready p{margin:2px 0}.ready .meta{color:var(--muted);font-size:12px}.ready .summary{white-space:pre-line}
.ready ul{margin:2px 0;padding-left:20px}.files-heading,.verified-heading{font-weight:600;font-size:12px}
.checks.failed,.verified.none{color:var(--bad)}.checks.pending{color:var(--warn)}
`;

/** A complete page: the nonce lets the page's CSP allow this one stylesheet and script and nothing inline besides. */
export function renderPage(options: { nonce: string; title: string; body: Html; script?: string }): string {
  const { nonce, title, body, script } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="data:,">
<title>${title}</title>
<style nonce="${nonce}">${raw(CSS)}</style>
</head>
<body>
${body}
${script !== undefined && html`<script nonce="${nonce}">${raw(script)}</script>`}
</body>
</html>
`.text;
}
