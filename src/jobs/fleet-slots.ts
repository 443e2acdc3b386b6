import type { RedisClient } from './connect-redis.js';

/** How often a job that waits for a slot asks again, if no process says meanwhile that it gave one back. */
const POLL_MS = 250;
/** Where a process says it gave a slot back, so that the fleet's waiting jobs ask again at once. */
const FREED = 'agent-mapreduce:slots-freed';

/**
 * Takes a slot only when the fleet runs fewer than `globalCap` jobs in all and fewer than `groupCap`
 * in the job's repository, on Redis's clock, in one step. Slots are members of sorted sets scored by
 * when they lapse, so a dead process's slots lapse by themselves.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
return 1
`;
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), ARGV[2])
return 1
`;
const GIVE_BACK = "redis.call('ZREM', KEYS[1], ARGV[1]); redis.call('ZREM', KEYS[2], ARGV[1]); return 1";

/**
 * The fleet's caps on running jobs: `MAX_AGENTS` across all processes, and each repository's
 * `map.concurrency` across all processes. A job takes a slot before it runs and gives it back after;
 * a job that finds the fleet full waits, polling, in its own process (whose own cap still applies).
 */
export class FleetSlots {
  readonly #redis: RedisClient;
  readonly #globalCap: number;
  readonly #ttlMs: number;
  /** Jobs of this process waiting for a slot: each wakes to ask again. */
  readonly #waiting = new Set<() => void>();
  #subscriber: { quit(): Promise<unknown> } | undefined;

  /** `ttlMs`: a slot not renewed for this long is free again (its process died); renewed every third of it. */
  constructor(redis: RedisClient, globalCap: number, ttlMs: number) {
    this.#redis = redis;
    this.#globalCap = globalCap;
    this.#ttlMs = ttlMs;
  }

  /**
   * The fleet's slots, with waiting jobs woken as soon as any process gives a slot back (instead of at
   * their next poll, on average half a poll later: a wave of a fleet's runs would start that late).
   */
  static async start(redisUrl: string, redis: RedisClient, globalCap: number, ttlMs: number): Promise<FleetSlots> {
    const slots = new FleetSlots(redis, globalCap, ttlMs);
    const { Redis } = await import('ioredis');
    // a subscribed connection can do nothing else: one of its own
    const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
    subscriber.on('error', () => undefined); // the command connection reports outages; this one reconnects and resubscribes by itself
    subscriber.on('message', () => slots.#wakeAll());
    await subscriber.subscribe(FREED);
    slots.#subscriber = subscriber;
    return slots;
  }

  async close(): Promise<void> {
    await this.#subscriber?.quit().catch(() => undefined);
  }

  #wakeAll(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of waiting) wake();
  }

  #nextChance(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, POLL_MS);
      this.#waiting.add(wake);
    });
  }

  /**
   * Runs `work` holding a slot of the fleet and of `group` (waiting until there is one, or until
   * `signal` aborts); the slot goes back when `released` resolves (the job's agent is done) or when
   * `work` ends, whichever is first.
   */
  async run(group: string, groupCap: number, work: () => Promise<void>, options: { signal: AbortSignal; released?: Promise<void> }): Promise<void> {
    const keys = ['agent-mapreduce:slots', `agent-mapreduce:slots:${group}`];
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    // Redis away for a moment counts as full: ask again
    while (Number(await this.#redis.eval(TAKE, 2, ...keys, this.#globalCap, groupCap, this.#ttlMs, token).catch(() => 0)) !== 1) {
      // cancelled while it waited: the run starts only to see that and say so, with no slot
      if (options.signal.aborted) return work();
      await this.#nextChance();
    }
    const renewal = setInterval(() => void this.#redis.eval(RENEW, 2, ...keys, this.#ttlMs, token).catch(() => undefined), this.#ttlMs / 3);
    renewal.unref();
    let given = false;
    const giveBack = async () => {
      if (given) return;
      given = true;
      clearInterval(renewal);
      await this.#redis.eval(GIVE_BACK, 2, ...keys, token).catch(() => undefined); // not given back: it lapses
      await this.#redis.publish(FREED, group).catch(() => undefined); // unheard: the waiting jobs poll
    };
    void options.released?.then(giveBack);
    try {
      await work();
    } finally {
      await giveBack();
    }
  }
}
