import { openPull, type IssueRecord } from './issue-records.js';
import type { IssueSummary, ReadyGroup, ReadyPull } from './view.js';

/** Files at the repository's root. */
export const TOP_LEVEL = '(top level)';
/** PRs heard of only from GitHub after a restart: the app no longer knows what their run changed. */
export const FILES_NOT_KNOWN = '(files not known)';

/** A file's area: its top two folders (`src/profile/view.ts` → `src/profile`), or one when it has one. */
export function areaOf(file: string): string {
  const folders = file.split('/').slice(0, -1);
  return folders.length === 0 ? TOP_LEVEL : folders.slice(0, 2).join('/');
}

/**
 * Groups the ready PRs by repository and area, so that a reviewer loads one part of the codebase
 * into their head once and reviews everything there. A PR belongs to the area holding most of its
 * files (ties: the first by name) and names the others it also touches. Groups come in the order
 * of their longest wait, PRs within a group oldest first.
 */
export function groupForReview(pulls: ReadyPull[]): ReadyGroup[] {
  const groups = new Map<string, ReadyGroup>();
  for (const pull of pulls) {
    const areas = areasOf(pull.files);
    const area = areas[0] ?? FILES_NOT_KNOWN;
    const key = `${pull.repo}\n${area}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { repo: pull.repo, area, pulls: [] }));
    group.pulls.push({ ...pull, alsoTouches: areas.slice(1) });
  }
  const byAge = (a: ReadyPull, b: ReadyPull) => a.since - b.since || a.pr - b.pr;
  for (const group of groups.values()) group.pulls.sort(byAge);
  return [...groups.values()].sort((a, b) => byAge(a.pulls[0]!, b.pulls[0]!) || `${a.repo} ${a.area}`.localeCompare(`${b.repo} ${b.area}`));
}

/** The areas a PR touches, the one with most files first. */
function areasOf(files: string[] | undefined): string[] {
  const counts = new Map<string, number>();
  for (const file of files ?? []) counts.set(areaOf(file), (counts.get(areaOf(file)) ?? 0) + 1);
  return [...counts].sort(([a, m], [b, n]) => n - m || a.localeCompare(b)).map(([area]) => area);
}

/**
 * The issue's PR when its next step is a person's review: open, no run queued or going, no
 * conflict, and no verdict standing since the agent's last push (a PR approved waits for the merge,
 * one with changes requested for the agent). Pending or failed checks do not hold a review back;
 * they are shown.
 */
export function readyPullOf(r: IssueRecord, summary: IssueSummary): ReadyPull | undefined {
  const pull = openPull(r);
  if (!pull || r.stage !== 'pr-open') return undefined;
  const crumb = pull.breadcrumb;
  return {
    repo: r.repo,
    issue: r.issue,
    title: summary.title,
    issueUrl: summary.url,
    pr: pull.number,
    url: pull.url,
    base: pull.base,
    review: pull.revisedAt !== undefined ? 're-review' : 'first',
    since: pull.revisedAt ?? pull.openedAt ?? r.stageSince,
    ...(crumb ? { summary: crumb.summary, files: crumb.files, verified: crumb.verified } : {}),
    ...(pull.checks ? { checks: pull.checks.state } : {}),
    costUsd: r.costUsd,
    revisionRounds: summary.revisionRounds,
  };
}
