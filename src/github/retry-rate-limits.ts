import type { ProbotOctokit } from 'probot';

/** How often one call is tried again after a rate limit (once: GitHub warns that retrying on can get an integration banned), and the longest wait GitHub may ask for. */
export const RATE_LIMIT_RETRIES = 1;
const MAX_WAIT_MS = 60_000;

const wrapped = new WeakSet<object>();

interface RequestError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined> };
}

/**
 * The one place a rate-limit answer is retried (Octokit's throttling is off: app-octokit.ts). A
 * secondary limit (403 "secondary rate limit") or a 429 is tried once more after the `retry-after`
 * GitHub gives (a minute at most), then the error goes through to the job, which says so. With the
 * write budget keeping notifying writes under the limit, these should be rare. 5xx answers are left
 * to Octokit's retry plugin.
 */
export function retryRateLimits(octokit: ProbotOctokit, sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))): void {
  if (wrapped.has(octokit)) return;
  wrapped.add(octokit);
  octokit.hook.wrap('request', async (request, options) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(options);
      } catch (error) {
        const wait = rateLimitWait(error as RequestError);
        if (wait === undefined || attempt >= RATE_LIMIT_RETRIES) throw error;
        octokit.log.warn(`GitHub rate limit on ${options.method} ${options.url}: trying again in ${Math.round(wait / 1000)} s`);
        await sleep(wait);
      }
    }
  });
}

/** How long GitHub asks us to wait, for a primary or secondary rate limit or a 429; undefined for any other error. */
function rateLimitWait(error: RequestError): number | undefined {
  const headers = error.response?.headers ?? {};
  const secondary = error.status === 403 && /secondary rate limit/i.test(error.message ?? '');
  const primary = error.status === 403 && headers['x-ratelimit-remaining'] === '0';
  if (!secondary && !primary && error.status !== 429) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, MAX_WAIT_MS);
  const reset = Number(headers['x-ratelimit-reset']);
  if (Number.isFinite(reset) && reset > 0) return Math.min(Math.max(reset * 1000 - Date.now(), 1000), MAX_WAIT_MS);
  return MAX_WAIT_MS; // GitHub's advice when it names no time: wait at least a minute
}
