import type { GitHub, Permission } from './port.js';
import { isWriter } from './port.js';

const TTL_MS = 60_000;

/** Permission look-ups, remembered for a minute: a maintainer labelling ten issues is asked about once. */
export class PermissionCache {
  readonly #entries = new Map<string, { permission: Permission; at: number }>();

  async isWriter(github: GitHub, login: string): Promise<boolean> {
    const key = `${github.owner}/${github.repo}:${login}`;
    const cached = this.#entries.get(key);
    if (cached && Date.now() - cached.at < TTL_MS) return isWriter(cached.permission);
    const permission = await github.getPermission(login);
    this.#entries.set(key, { permission, at: Date.now() });
    if (this.#entries.size > 10_000) this.#entries.delete(this.#entries.keys().next().value!);
    return isWriter(permission);
  }
}
