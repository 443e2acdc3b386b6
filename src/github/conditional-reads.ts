import type { ProbotOctokit } from 'probot';

/**
 * GitHub answers a GET that carries the ETag of its last answer with 304 Not Modified when nothing
 * changed, and such a request does not count against the primary rate limit. A reduce pass re-reads
 * every candidate's reviews and checks, so most of its reads are unchanged: this keeps the last
 * answer per installation and URL, sends its ETag, and hands the kept answer back on a 304.
 *
 * Written here: Octokit has no ETag plugin (it throws on a 304, so the caller must keep the answer),
 * and an HTTP cache in front of fetch would not know that ETags are per installation.
 */
export class ReadCache {
  static readonly maxEntries = 5000;
  readonly #entries = new Map<string, { etag: string; response: unknown }>();

  get(key: string): { etag: string; response: unknown } | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      // most recently used last, so the oldest is the first to go
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: { etag: string; response: unknown }): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > ReadCache.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

const conditional = new WeakSet<object>();

/** Every GET of this octokit becomes conditional on the kept answer's ETag; once per octokit. */
export function conditionalReads(octokit: ProbotOctokit, cache: ReadCache, installationId: number): void {
  if (conditional.has(octokit)) return;
  conditional.add(octokit);
  octokit.hook.wrap('request', async (request, options) => {
    if ((options.method ?? 'GET').toUpperCase() !== 'GET') return request(options);
    // a streamed body (a job's log) is read once by its caller: there is no answer to keep
    if ((options.request as { parseSuccessResponseBody?: boolean } | undefined)?.parseSuccessResponseBody === false) return request(options);
    const { url, headers } = octokit.request.endpoint.parse(options as Parameters<typeof octokit.request.endpoint.parse>[0]);
    const key = `${installationId} ${String((headers as Record<string, unknown>).accept ?? '')} ${url}`;
    const kept = cache.get(key);
    if (kept) options.headers = { ...options.headers, 'if-none-match': kept.etag };
    try {
      const response = await request(options);
      const etag = response.headers.etag;
      if (etag) cache.set(key, { etag, response });
      return response;
    } catch (error) {
      if ((error as { status?: number }).status !== 304 || !kept) throw error;
      return kept.response as Awaited<ReturnType<typeof request>>;
    }
  });
}
