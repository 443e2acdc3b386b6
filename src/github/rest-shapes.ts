import type { IssueComment, IssueInfo, PullInfo } from './port.js';

/** GitHub's REST answers as far as the adapter reads them, and their conversion into the port's types. */

export interface RestComment {
  id: number;
  body?: string | undefined;
  user: { login: string; type?: string } | null;
  performed_via_github_app?: { id: number } | null | undefined;
}

export interface RestIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  labels: Array<string | { name?: string }>;
  comments: number;
  pull_request?: unknown;
  issue_dependencies_summary?: { blocked_by: number } | null;
}

export interface RestPull {
  number: number;
  html_url: string;
  draft?: boolean;
  created_at?: string;
  labels?: Array<{ name?: string }>;
  head: { ref: string; sha: string; repo: { full_name: string } | null };
  base: { ref: string; repo: { full_name: string } };
}

export function toComment(c: RestComment): IssueComment {
  return {
    id: c.id, body: c.body ?? '', author: c.user?.login ?? '', authorIsBot: c.user?.type === 'Bot', viaAppId: c.performed_via_github_app?.id,
  };
}

export function toIssue(i: RestIssue): IssueInfo {
  return {
    number: i.number,
    title: i.title,
    body: i.body ?? '',
    open: i.state === 'open',
    labels: i.labels.map((l) => (typeof l === 'string' ? l : l.name ?? '')).filter(Boolean),
    comments: i.comments,
    isPullRequest: i.pull_request !== undefined && i.pull_request !== null,
    ...(i.issue_dependencies_summary ? { openBlockers: i.issue_dependencies_summary.blocked_by } : {}),
  };
}

export function toPull(p: RestPull): PullInfo {
  return {
    number: p.number,
    url: p.html_url,
    headRef: p.head.ref,
    headSha: p.head.sha,
    baseRef: p.base.ref,
    fromFork: p.head.repo?.full_name !== p.base.repo.full_name,
    draft: p.draft ?? false,
    labels: (p.labels ?? []).map((l) => l.name ?? '').filter(Boolean),
    ...(p.created_at ? { createdAt: Date.parse(p.created_at) } : {}),
  };
}

export const status = (error: unknown) => (error as { status?: number }).status;

/** Answers that mean "GitHub will not tell this app" (no permission, no such API or thing): nothing to read, not an error. */
export const unreadable = (error: unknown) => [403, 404, 410].includes(status(error) ?? 0);
export const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
export const configPluginPrefix = '[@probot/octokit-plugin-config]';
