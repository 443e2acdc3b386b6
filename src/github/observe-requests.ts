import type { ProbotOctokit } from 'probot';

/** One GitHub API request as the profile counts it: its route template and the answer's status (0: no answer). */
export type RequestObserver = (request: { route: string; status: number }) => void;

const observed = new WeakSet<object>();

/** Tells `observer` of every request the octokit makes, retries included, once per octokit. */
export function observeRequests(octokit: ProbotOctokit, observer: RequestObserver): void {
  if (observed.has(octokit)) return;
  observed.add(octokit);
  const route = (options: { method?: string; url?: string }) => `${options.method ?? 'GET'} ${options.url ?? ''}`;
  octokit.hook.after('request', (response, options) => observer({ route: route(options), status: response.status }));
  octokit.hook.error('request', (error, options) => {
    observer({ route: route(options), status: (error as { status?: number }).status ?? 0 });
    throw error;
  });
}
