import type { GitHub, IssueInfo } from '../github/port.js';

/** Most issues named in an issue's body that are looked up: the rest are ignored (a body may name hundreds). */
const MAX_NAMED = 20;

/**
 * The open issues that block this one: GitHub's own "blocked by" relationships (issue dependencies;
 * read only when the issue's summary counts an open one, or when GitHub does not say), and
 * `Blocked by #n` / `Depends on #n` lines in its body, for where that API is not available.
 */
export async function findOpenBlockers(github: GitHub, issue: Pick<IssueInfo, 'number' | 'body' | 'openBlockers'>): Promise<number[]> {
  const open = new Set<number>();
  // a GitHub without issue dependencies answers none: the body's lines still count
  if (issue.openBlockers === undefined || issue.openBlockers > 0) {
    for (const blocker of await github.listBlockers(issue.number)) if (blocker.open) open.add(blocker.number);
  }
  for (const number of blockersNamedIn(issue.body)) {
    if (open.has(number) || number === issue.number) continue;
    const named = await github.getIssue(number).catch((err: unknown) => {
      if ([404, 410].includes((err as { status?: number } | null)?.status ?? 0)) return undefined; // no such issue: nothing to wait for
      throw err;
    });
    if (named?.open && !named.isPullRequest) open.add(number);
  }
  return [...open].sort((a, b) => a - b);
}

/** The issue numbers of `Blocked by #n` and `Depends on #n` lines (several per line: `Depends on #3, #4`). */
export function blockersNamedIn(body: string): number[] {
  const found = new Set<number>();
  for (const line of body.split('\n')) {
    const match = /^\s*(?:[-*]\s+)?(?:\*\*)?(?:blocked\s+by|depends\s+on)(?:\*\*)?:?\s+(.*)$/i.exec(line);
    if (!match) continue;
    for (const ref of match[1]!.matchAll(/(?:^|[\s,;(])#(\d{1,9})\b/g)) {
      found.add(Number(ref[1]));
      if (found.size >= MAX_NAMED) return [...found];
    }
  }
  return [...found];
}
