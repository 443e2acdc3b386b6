/**
 * Issue text is written by anyone who can open an issue: strip what a reader on GitHub cannot see
 * (HTML comments, hidden elements, zero-width and bidirectional control characters) so that the
 * agent reads only what the maintainer who labelled the issue could read.
 */
const invisibleCharacters = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u00AD\u180E]/g;
const htmlComment = /<!--[\s\S]*?(?:-->|$)/g;
const hiddenElement =
  /<([a-z][a-z0-9]*)\b[^>]*?(?:\shidden(?=[\s=>/])|style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden)[^"']*["'])[^>]*>[\s\S]*?<\/\1\s*>/gi;

export function sanitizeUntrusted(text: string, maxLength = 50_000): string {
  // until nothing changes: removing one piece must not join its neighbours into a new one (`<!<!--x-->--`)
  let clean = text;
  for (let previous = ''; previous !== clean;) {
    previous = clean;
    clean = clean.replace(htmlComment, '').replace(hiddenElement, '').replace(invisibleCharacters, '');
  }
  if (clean.length > maxLength) {
    clean = `${clean.slice(0, maxLength)}\n[… ${clean.length - maxLength} more characters cut]`;
  }
  return clean;
}

/** Marks text as data from the issue tracker; the closing tag cannot be forged from inside. */
export function fenceUntrusted(tag: string, text: string): string {
  const safe = text.replaceAll(`</${tag}`, `<\\/${tag}`);
  return `<${tag}>\n${safe}\n</${tag}>`;
}
