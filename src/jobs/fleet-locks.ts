import type { RedisClient } from './connect-redis.js';

/** Where a job's lock lives: `agent-mapreduce:job:<owner>/<repo>#<n>`. */
export const JOB_LOCK_PREFIX = 'agent-mapreduce:job:';

/** Deletes or extends the lock only while it is still this holder's (its token), in one step on the server. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Extends the lock while it is this holder's; takes it again if it is gone (Redis restarted without its data). */
const RENEW = `
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if holder == false then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
/** How often a job asks again for a lock another process holds. */
const WAIT_MS = 500;

/**
 * One job per issue across a fleet's processes: a process runs an issue's job only while it holds the
 * issue's lock in the shared Redis, so two processes that were both asked (a webhook to one, a
 * reconcile in the other) never run two agents on one issue at once. The single-instance Redis lock pattern
 * (SET NX PX with a random token; compare-and-delete), renewed while the job runs: a few lines, so
 * written here rather than taken from a lock library (the Node ones are unmaintained or built for
 * several independent Redis servers, which a fleet on one Redis does not have).
 */
export class FleetLocks {
  readonly #redis: RedisClient;
  readonly #ttlMs: number;
  readonly #prefix: string;

  /** `ttlMs`: how long a lock outlives its process (renewed every third of it while the job runs). */
  constructor(redis: RedisClient, ttlMs: number, prefix = JOB_LOCK_PREFIX) {
    this.#redis = redis;
    this.#ttlMs = ttlMs;
    this.#prefix = prefix;
  }

  /**
   * Which of `keys` some process holds now, each with how long until its lock lapses unless renewed
   * (Redis away: none, and the lock still keeps a copy from running alongside).
   */
  async held(keys: string[]): Promise<Map<string, number>> {
    const left = await Promise.all(keys.map((key) => this.#redis.pttl(this.#prefix + key).catch(() => -2)));
    return new Map(keys.flatMap((key, i) => (left[i]! > 0 ? [[key, left[i]!] as const] : [])));
  }

  /**
   * Runs `work` while holding `key`'s lock, waiting while another process holds it (its job on the
   * issue finishes first; then this one runs and finds what that one did, as one process's next job
   * would). `onWait` is called once if it has to wait; `onLost` if the lock could not be kept (another
   * process took it: this one stalled past the lock's lifetime). Aborting `signal` while it waits
   * runs `work` at once without the lock: it only sees that it was cancelled and says so.
   */
  async runExclusive(key: string, work: () => Promise<void>, options: { signal: AbortSignal; onWait: () => void; onLost: () => void }): Promise<void> {
    const { signal, onWait, onLost } = options;
    const lockKey = this.#prefix + key;
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    for (let waited = false; ; waited = true) {
      // Redis away for a moment counts as taken: ask again
      if ((await this.#redis.set(lockKey, token, 'PX', this.#ttlMs, 'NX').catch(() => null)) === 'OK') break;
      if (signal.aborted) return work();
      if (!waited) onWait();
      await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    }
    const renewal = setInterval(() => {
      this.#redis.eval(RENEW, 1, lockKey, token, this.#ttlMs)
        .then((kept) => { if (kept !== 1) onLost(); }, () => undefined); // Redis away for a moment: the next renewal tries again
    }, this.#ttlMs / 3);
    renewal.unref();
    try {
      await work();
    } finally {
      clearInterval(renewal);
      await this.#redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined); // not released: it expires by itself
    }
  }
}
