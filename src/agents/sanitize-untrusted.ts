/**
 * Issue text is written by anyone who can open an issue: strip what a reader on GitHub cannot see
 * (HTML comments, hidden elements, zero-width, bidirectional and other format characters, control
 * characters) so that the agent reads only what the maintainer who labelled the issue could read.
 */
const invisibleCharacters = /(?![\t\n\r])[\p{Cc}\p{Cf}]/gu;
const loneSurrogate = /\p{Cs}/gu;
const htmlComment = /<!--[\s\S]*?(?:-->|$)/g;
const openingTag = /<([a-z][a-z0-9]*)\b/gi;
const closingTag = /<\/([a-z][a-z0-9]*)\s*>/gi;
const hiddenAttribute = /\shidden(?=[\s=/>])/gi;
const styleAttribute = /style\s*=\s*["']/gi;
const quote = /["']/g;
const hidingStyle = /display\s*:\s*none|visibility\s*:\s*hidden/i;
/** Real text nests hidden pieces a level or two deep; more is built to wear the cleaning down. */
const MAX_PASSES = 8;

export function sanitizeUntrusted(text: string, maxLength = 50_000): string {
  // until nothing changes: removing one piece must not join its neighbours into a new one (`<!<!--x-->--`)
  let clean = text;
  let passes = 0;
  for (let previous = ''; previous !== clean; passes++) {
    if (passes === MAX_PASSES) {
      // still uncovering new hidden pieces: show nothing from the first piece of markup on
      const markup = clean.indexOf('<');
      if (markup >= 0) clean = `${clean.slice(0, markup)}\n[… the rest is not shown: it nests hidden markup too deeply to clean]`;
      break;
    }
    previous = clean;
    clean = removeHiddenElements(clean.replace(htmlComment, '')).replace(invisibleCharacters, '');
  }
  clean = clean.replace(loneSurrogate, '\uFFFD');
  if (clean.length > maxLength) {
    // never split a surrogate pair
    const cut = /[\uD800-\uDBFF]/.test(clean[maxLength - 1] ?? '') ? maxLength - 1 : maxLength;
    clean = `${clean.slice(0, cut)}\n[… ${clean.length - cut} more characters cut]`;
  }
  return clean;
}

/**
 * Removes `<tag hidden>…</tag>` and `<tag style="display:none">…</tag>` up to the first closing
 * tag of the same name, in one pass over the text: a single regular expression for this rescans
 * the rest of the text from every `<`, which takes minutes on a megabyte of unclosed tags.
 */
function removeHiddenElements(text: string): string {
  const hiding = [...spans(hiddenAttribute, text), ...hidingStyles(text)].sort((a, b) => a.at - b.at);
  const closings = new Map<string, Span[]>();
  for (const span of spans(closingTag, text)) {
    const name = span.groups[0]!.toLowerCase();
    const list = closings.get(name);
    if (list) list.push(span);
    else closings.set(name, [span]);
  }
  let nextHiding = 0;
  let tagEnd = -1;
  let out = '';
  let copied = 0;
  openingTag.lastIndex = 0;
  for (let m = openingTag.exec(text); m; m = openingTag.exec(text)) {
    const attributes = openingTag.lastIndex;
    if (tagEnd < attributes) tagEnd = text.indexOf('>', attributes);
    if (tagEnd < 0) break;
    while (nextHiding < hiding.length && hiding[nextHiding]!.at < attributes) nextHiding++;
    const end = hiddenTagEnd(text, tagEnd, hiding[nextHiding]);
    if (end < 0) continue;
    const closing = firstAfter(closings.get(m[1]!.toLowerCase()) ?? [], end);
    if (!closing) continue;
    out += text.slice(copied, m.index);
    copied = closing.end;
    openingTag.lastIndex = closing.end;
  }
  return out + text.slice(copied);
}

interface Span {
  at: number;
  end: number;
  groups: Array<string | undefined>;
  /** The first `>` after the span, once looked up. */
  next?: number;
}

/**
 * Where an opening tag ends if the first piece of hiding markup after its name lies inside it; -1
 * if there is none. The tag ends at its first `>` (`tagEnd`), unless that `>` is inside the quoted
 * style that hides it: then at the next one.
 */
function hiddenTagEnd(text: string, tagEnd: number, first: Span | undefined): number {
  if (!first || first.at >= tagEnd) return -1;
  if (first.end <= tagEnd) return tagEnd;
  first.next ??= text.indexOf('>', first.end);
  return first.next >= 0 ? first.next : tagEnd;
}

/** `style="…"` attributes whose value hides the element, each up to the first quote after its own. */
function hidingStyles(text: string): Span[] {
  const found: Span[] = [];
  for (const m of text.matchAll(styleAttribute)) {
    const value = m.index + m[0].length;
    quote.lastIndex = value;
    const end = quote.exec(text)?.index;
    if (end === undefined) break;
    if (hidingStyle.test(text.slice(value, end))) found.push({ at: m.index, end: end + 1, groups: [] });
  }
  return found;
}

/** The first span that starts after `position`, by binary search of spans in order. */
function firstAfter(list: Span[], position: number): Span | undefined {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]!.at <= position) low = middle + 1;
    else high = middle;
  }
  return list[low];
}

function spans(pattern: RegExp, text: string): Span[] {
  return [...text.matchAll(pattern)].map((m) => ({ at: m.index, end: m.index + m[0].length, groups: m.slice(1) }));
}

/** Marks text as data from the issue tracker; the closing tag cannot be forged from inside. */
export function fenceUntrusted(tag: string, text: string): string {
  const safe = text.replaceAll(`</${tag}`, `<\\/${tag}`);
  return `<${tag}>\n${safe}\n</${tag}>`;
}
