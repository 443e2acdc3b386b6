/** `retry-after-ms`, else `retry-after` (seconds or an HTTP date); a minute when neither says. */
export function retryAfterMs(headers: Headers, now = Date.now()): number {
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers.get('retry-after');
  if (value) {
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return seconds * 1000;
    const date = Date.parse(value);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return 60_000;
}
