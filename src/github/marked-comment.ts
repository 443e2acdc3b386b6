import type { GitHub, IssueComment } from './port.js';

/**
 * Comments the app keeps one of per issue or PR carry a hidden marker naming their kind and
 * holding a small JSON state, so that a restarted process can read back what it last said:
 * `<!-- agent-mapreduce:status {"state":"running"} -->`.
 */
const markerPattern = /<!-- agent-mapreduce:([a-z-]+)(?: (\{.*?\}))? -->/;

export function renderMarker(kind: string, data?: object): string {
  const json = data === undefined ? '' : ` ${JSON.stringify(data).replaceAll('--', '\\u002d\\u002d')}`;
  return `<!-- agent-mapreduce:${kind}${json} -->`;
}

export function readMarker(body: string): { kind: string; data: Record<string, unknown> } | null {
  const match = markerPattern.exec(body);
  if (!match) return null;
  try {
    const data: unknown = match[2] ? JSON.parse(match[2]) : {};
    return { kind: match[1]!, data: typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {} };
  } catch {
    return { kind: match[1]!, data: {} };
  }
}

/**
 * Only the app's own comments count: a person, or another app quoting one, pasting a marker must
 * not be able to steer it. Without the app's id (a deployment without APP_ID), any bot's counts.
 */
export function findMarkedComment(comments: IssueComment[], kind: string, appId?: number): IssueComment | undefined {
  return comments.find((c) => c.authorIsBot && (appId === undefined || c.viaAppId === appId) && readMarker(c.body)?.kind === kind);
}

/**
 * Creates the issue's one comment of this kind, or edits it in place; an edit that would change
 * nothing is not sent. Remembers comment ids so that later upserts skip the listing.
 */
export class MarkedComments {
  static readonly cacheSize = 10_000;
  readonly #appId: number | undefined;

  /** `appId`: the app whose comments are its own (Probot's APP_ID). */
  constructor(appId?: number) {
    this.#appId = appId;
  }

  readonly #ids = new Map<string, number>();
  readonly #bodies = new Map<number, string>();
  readonly #writes = new Map<string, Promise<void>>();
  readonly #latest = new Map<string, string>();
  readonly #absent = new Set<string>();

  /**
   * The issue's comment of this kind. Only this app writes them, so once a listing found none (or
   * `assumeNone` said so), there is none until this process writes one: no listing again.
   */
  async find(github: GitHub, issueNumber: number, kind: string): Promise<IssueComment | undefined> {
    const key = this.#key(github, issueNumber, kind);
    if (this.#absent.has(key)) return undefined;
    const found = findMarkedComment(await github.listComments(issueNumber), kind, this.#appId);
    if (found) this.#remember(github, issueNumber, kind, found.id, found.body);
    // not if this process wrote one while the listing ran
    else if (!this.#ids.has(key)) this.#markAbsent(key);
    return found;
  }

  /**
   * The latest body of the issue's comment of this kind: the one being written, or the one this
   * process last wrote or read (only this app writes them), or else the one a listing finds.
   */
  async read(github: GitHub, issueNumber: number, kind: string): Promise<string | undefined> {
    const key = this.#key(github, issueNumber, kind);
    const pending = this.#latest.get(key);
    if (pending !== undefined) return pending;
    const id = this.#ids.get(key);
    const known = id === undefined ? undefined : this.#bodies.get(id);
    return known ?? (await this.find(github, issueNumber, kind))?.body;
  }

  /**
   * Writes for one comment go out one at a time, in order; a write still waiting when a newer one
   * arrives is dropped, since only the latest text matters.
   */
  upsert(github: GitHub, issueNumber: number, kind: string, text: string, data?: object): Promise<void> {
    const key = this.#key(github, issueNumber, kind);
    const body = `${renderMarker(kind, data)}\n${text}`;
    this.#latest.set(key, body);
    const previous = this.#writes.get(key) ?? Promise.resolve();
    const write = previous.catch(() => {}).then(async () => {
      if (this.#latest.get(key) !== body) return;
      await this.#upsertNow(github, issueNumber, kind, body);
    });
    this.#writes.set(key, write);
    void write.catch(() => {}).finally(() => {
      if (this.#writes.get(key) === write) {
        this.#writes.delete(key);
        this.#latest.delete(key);
      }
    });
    return write;
  }

  async #upsertNow(github: GitHub, issueNumber: number, kind: string, body: string): Promise<void> {
    const key = this.#key(github, issueNumber, kind);
    const id = this.#ids.get(key) ?? (await this.find(github, issueNumber, kind))?.id;
    if (id !== undefined) {
      if (this.#bodies.get(id) === body) return;
      try {
        await github.updateComment(id, body);
        this.#remember(github, issueNumber, kind, id, body);
        return;
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
        this.#ids.delete(key); // someone deleted it: write a new one
      }
    }
    const created = await github.createComment(issueNumber, body);
    this.#remember(github, issueNumber, kind, created.id, body);
  }

  /** Tells the cache that the issue has no comment of this kind yet, so the first upsert need not list. */
  assumeNone(github: GitHub, issueNumber: number, kind: string): void {
    const key = this.#key(github, issueNumber, kind);
    if (!this.#ids.has(key)) this.#markAbsent(key);
  }

  #markAbsent(key: string): void {
    this.#absent.add(key);
    if (this.#absent.size > MarkedComments.cacheSize) this.#absent.delete(this.#absent.values().next().value!);
  }

  #key(github: GitHub, issueNumber: number, kind: string): string {
    return `${github.owner}/${github.repo}#${issueNumber}:${kind}`;
  }

  #remember(github: GitHub, issueNumber: number, kind: string, id: number, body: string): void {
    const key = this.#key(github, issueNumber, kind);
    this.#absent.delete(key);
    this.#ids.delete(key);
    this.#ids.set(key, id);
    this.#bodies.set(id, body);
    if (this.#ids.size > MarkedComments.cacheSize) {
      const [oldestKey, oldestId] = this.#ids.entries().next().value!;
      this.#ids.delete(oldestKey);
      this.#bodies.delete(oldestId);
    }
  }
}
