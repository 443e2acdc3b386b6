import type { ProbotOctokit } from 'probot';
import { countedAndPaced, createOctokitGitHub, type RequestCounting } from '../github/octokit-github.js';

import type { GitHub, IssueInfo, RepositoryInfo } from '../github/port.js';

interface PayloadIssue {
  number: number;
  title: string;
  body?: string | null;
  state?: string;
  labels?: Array<{ name: string }>;
  comments: number;
  pull_request?: unknown;
}

/** The issue as the webhook saw it; jobs re-read it from GitHub before they act. */
export function issueFromPayload(issue: PayloadIssue): IssueInfo {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body ?? '',
    open: issue.state !== 'closed',
    labels: (issue.labels ?? []).map((l) => l.name),
    comments: issue.comments,
    isPullRequest: issue.pull_request !== undefined && issue.pull_request !== null,
  };
}

export function repositoryFromPayload(repository: { default_branch: string; clone_url: string }): RepositoryInfo {
  return { defaultBranch: repository.default_branch, cloneUrl: repository.clone_url };
}

/** The event's repository on GitHub: its API requests counted by the profile, its notifying writes in the installation's budget. */
export function gitHubOf(
  services: RequestCounting,
  context: { octokit: ProbotOctokit; repo(): { owner: string; repo: string }; payload: { installation?: { id: number } } },
): GitHub {
  const { owner, repo } = context.repo();
  const installationId = context.payload.installation?.id ?? 0;
  return createOctokitGitHub(context.octokit, { owner, repo, installationId, ...countedAndPaced(services, installationId) });
}
