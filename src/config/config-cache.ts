import type { GitHub } from '../github/port.js';
import type { ConfigResult } from './parse-config.js';
import { loadConfig } from './load-config.js';

const TTL_MS = 60_000;

/**
 * Remembers each repository's config for a minute, and until a push to its default branch, so
 * that a burst of labels costs one read of the file instead of one per issue.
 */
export class ConfigCache {
  readonly #entries = new Map<string, { result: ConfigResult; at: number }>();

  async get(github: GitHub): Promise<ConfigResult> {
    const key = `${github.owner}/${github.repo}`;
    const cached = this.#entries.get(key);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.result;
    const result = await loadConfig(github);
    this.#entries.set(key, { result, at: Date.now() });
    return result;
  }

  forget(owner: string, repo: string): void {
    this.#entries.delete(`${owner}/${repo}`);
  }
}
