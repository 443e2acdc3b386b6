import { VERBS, type Verb } from './verbs.js';

export type Command =
  | { verb: Verb; text: string }
  /** `/agent` followed by a word that is not a verb, or by nothing: answered with the help text. */
  | { verb: 'unknown'; word: string; text: string };

const commandLine = /^ {0,3}\/agent(?:[ \t]+(\S+))?[ \t]*(.*)$/i;
const fence = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Finds the first `/agent <verb> [text]` line of a comment. The text is the rest of that line and
 * every line after it. Lines inside fenced or indented code, block quotes and HTML comments are
 * not commands, so that quoting or documenting a command never triggers it.
 */
export function parseCommand(body: string): Command | null {
  const lines = body.split(/\r?\n/);
  let openFence: string | null = null;
  let inHtmlComment = false;
  let previousBlank = true;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const blank = line.trim() === '';

    if (openFence !== null) {
      const close = fence.exec(line);
      if (close && close[1]![0] === openFence[0] && close[1]!.length >= openFence.length && line.trim() === close[1]) {
        openFence = null;
      }
      previousBlank = blank;
      continue;
    }
    if (inHtmlComment) {
      if (line.includes('-->')) inHtmlComment = false;
      previousBlank = blank;
      continue;
    }
    const opening = fence.exec(line);
    if (opening) {
      openFence = opening[1]!;
      previousBlank = false;
      continue;
    }
    const trimmedStart = line.trimStart();
    if (trimmedStart.startsWith('<!--')) {
      inHtmlComment = !trimmedStart.includes('-->', 4);
      previousBlank = false;
      continue;
    }
    const indentedCode = previousBlank && /^(?: {4}|\t)/.test(line) && !blank;
    previousBlank = blank;
    if (indentedCode) {
      previousBlank = true; // an indented code block goes on until a line that is not indented
      continue;
    }

    const match = commandLine.exec(line);
    if (!match) continue;
    // `/agents` or `/agent-x` are other words, not this command
    if (/^\/agent[^\s]/i.test(trimmedStart)) continue;

    const word = (match[1] ?? '').replace(/[.,!:;]+$/, '').toLowerCase();
    const rest = [match[2] ?? '', ...lines.slice(i + 1)].join('\n').trim();
    if ((VERBS as readonly string[]).includes(word)) return { verb: word as Verb, text: rest };
    return { verb: 'unknown', word: match[1] ?? '', text: rest };
  }
  return null;
}
