/** Text the app shows people, made one way everywhere. */

/** Cuts `text` to at most `max` characters, marking the cut with `…`. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Replaces every occurrence of each secret by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s !== '').reduce((out, secret) => out.split(secret).join('***'), text);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const oneDecimal = (n: number) => n.toFixed(1).replace(/\.0$/, '');

/** How long something took or waited: "0.4 s", "45 s", "12 min", "3.5 h", "2.1 d". */
export function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 10 * SECOND) return `${oneDecimal(t / SECOND)} s`;
  if (Math.round(t / SECOND) < 60) return `${Math.round(t / SECOND)} s`;
  if (Math.round(t / MINUTE) < 60) return `${Math.round(t / MINUTE)} min`;
  if (Math.round((t / HOUR) * 10) < 240) return `${oneDecimal(t / HOUR)} h`;
  return `${oneDecimal(t / DAY)} d`;
}

/** A token count at a glance: 950, 1.5k, 2.3M. */
export function formatTokens(n: number): string {
  return n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}
