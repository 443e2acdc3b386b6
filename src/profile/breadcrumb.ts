import { clip } from '../text.js';

export interface Breadcrumb {
  summary: string;
  files: string[];
  /** What the agent says it verified, in its own words: lines of its summary. */
  verified: string[];
}

const MAX_SUMMARY = 4000;
const MAX_FILES = 300;
const MAX_VERIFIED = 6;
const HEADING = /^\s*(?:#{1,6}\s+|\*\*|__)?\s*([^*_:]{1,40}?)\s*(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*$/;
const VERIFY_HEADING = /^(verif\w*|validation|testing|tests?|checks?|how (?:it was|i) (?:verified|tested)\w*)$/i;
const VERIFY_WORDS = /\b(verif\w*|tests?|tested|passe[sd]|passing|lint\w*|typecheck\w*|type-check\w*|ran|npm|pytest|cargo|go test)\b/i;

/**
 * What a reviewer re-enters a PR from: the agent's summary, the changed files, and what it says it
 * verified. The agent is asked to say how it verified its change (commands and results) but not in
 * a fixed form, so the lines under a "Verification"/"Testing" heading are taken when there is one,
 * otherwise the sentences that speak of tests, checks or commands run.
 */
export function breadcrumbOf(summary: string, files: string[]): Breadcrumb {
  return { summary: clip(summary.trim(), MAX_SUMMARY), files: files.slice(0, MAX_FILES), verified: verificationOf(summary) };
}

function verificationOf(summary: string): string[] {
  const lines = summary.split(/\r?\n/).map((l) => l.trim());
  const heading = lines.findIndex((l) => VERIFY_HEADING.test(HEADING.exec(l)?.[1] ?? ''));
  if (heading >= 0) {
    const under: string[] = [];
    for (const line of lines.slice(heading + 1)) {
      if (line === '' && under.length === 0) continue;
      if (line === '' || line.startsWith('#') || /^(\*\*|__)[^*_]+(\*\*|__):?$/.test(line)) break;
      under.push(line);
    }
    if (under.length > 0) return tidy(under);
  }
  const sentences = lines.flatMap((l) => l.split(/(?<=[.!?])\s+(?=[A-Z`])/));
  return tidy(sentences.filter((s) => VERIFY_WORDS.test(s)));
}

function tidy(lines: string[]): string[] {
  return lines.map((l) => clip(l.replace(/^([-*+]|\d+[.)])\s+/, '').trim(), 300)).filter((l) => l !== '').slice(0, MAX_VERIFIED);
}
