import { ProbotOctokit } from 'probot';

/**
 * The Octokit the app runs on. One layer owns GitHub's limits, the app's own: notifying writes wait
 * in the installation's write budget (write-budget.ts), and a 429 or secondary-limit answer is tried
 * once more after its `retry-after` (retry-rate-limits.ts). So Octokit's throttling is off (its fixed
 * spacing of 3 s per notifying write would cap a train's merges, and stack its retries on ours), and
 * its retry plugin only retries server errors: a 405 or 409 on a merge means "read again", not "try
 * again", and a 429 is ours. A function, because Probot's own throttle options would override plain
 * object defaults.
 */
export const AppOctokit = ProbotOctokit.defaults((options: object) => ({
  ...options,
  throttle: { enabled: false },
  retry: { doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451] },
}));
