import { LUA_NOW } from '../redis-clock.js';
import { dedicatedRedis, type RedisClient } from './connect-redis.js';

/**
 * How often a job that waits for a slot asks again if not woken: only a lost message or a dead
 * process's lapsed slot needs it, since a slot given back wakes the waiters it is for.
 */
const POLL_MS = 1_000;
/** Where a slot given back names the waiters it handed the free slots to. */
const FREED = 'agent-mapreduce:slots-freed';

/** Slot sets: one for the fleet, one per repository (`<prefix><owner/repo>`). */
const SLOTS = 'agent-mapreduce:slots';
const GROUP_SLOTS = 'agent-mapreduce:slots:';
/** The fleet's waiting jobs, in the order they start: a sorted set by priority and label time, and each one's repository, cap and lapse time. */
const LINE = 'agent-mapreduce:slots-line';
const WAITERS = 'agent-mapreduce:slots-waiters';

/**
 * Who in the fleet's line gets the free slots now, on Redis's clock: going down the line (priority
 * first, then label time), each waiter whose repository has room is counted as taking one of the free
 * slots, so a waiter whose repository is full never holds up the others; lapsed waiters (a dead
 * process's) are dropped on the way. Other repositories' slot sets are read by name: the fleet's Redis
 * is one server, not a cluster. Slots and waiters are scored by when they lapse, so a dead process's
 * slots and places free themselves.
 * KEYS: fleet slots, (a repository's slots), the line, the waiters' details. ARGV[1]: globalCap; the
 * group slot prefix is the last ARGV.
 */
const ENTITLED = `${LUA_NOW}
local function entitled(slots, line, waiters, globalCap, groupPrefix)
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  local free = globalCap - redis.call('ZCARD', slots)
  local chosen = {}
  if free <= 0 then return chosen end
  local used = {}
  for _, waiter in ipairs(redis.call('ZRANGE', line, 0, -1)) do
    local info = redis.call('HGET', waiters, waiter)
    local group, cap, lapse
    if info then group, cap, lapse = string.match(info, '^(.*)\\n(%d+)\\n(%d+)$') end
    if not group or tonumber(lapse) < now then
      redis.call('ZREM', line, waiter)
      redis.call('HDEL', waiters, waiter)
    else
      if used[group] == nil then
        local key = groupPrefix .. group
        redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
        used[group] = redis.call('ZCARD', key)
      end
      if used[group] < tonumber(cap) then
        chosen[#chosen + 1] = { waiter, group }
        used[group] = used[group] + 1
        free = free - 1
        if free <= 0 then return chosen end
      end
    end
  end
  return chosen
end
`;
/**
 * Takes a slot in one step, only when the fleet runs fewer than `globalCap` agents, the job's
 * repository fewer than its cap, and no job ahead of it in the line could take the slot instead
 * (ENTITLED). The caller is put in line (or renewed there) first.
 * KEYS: fleet slots, this repository's slots, the line, the waiters' details.
 * ARGV: globalCap, groupCap, ttlMs, token, place in line, group, group slot prefix.
 */
const TAKE = `${ENTITLED}
local ttl = tonumber(ARGV[3])
local me = ARGV[4]
-- handed a slot by the job that gave it back, before this one heard
local handed = redis.call('ZSCORE', KEYS[1], me)
if handed and tonumber(handed) >= now then return 1 end
redis.call('ZADD', KEYS[3], ARGV[5], me)
redis.call('HSET', KEYS[4], me, ARGV[6] .. '\\n' .. ARGV[2] .. '\\n' .. (now + ttl))
for _, next in ipairs(entitled(KEYS[1], KEYS[3], KEYS[4], tonumber(ARGV[1]), ARGV[7])) do
  if next[1] == me then
    redis.call('ZADD', KEYS[1], now + ttl, me)
    redis.call('ZADD', KEYS[2], now + ttl, me)
    redis.call('ZREM', KEYS[3], me)
    redis.call('HDEL', KEYS[4], me)
    return 1
  end
end
return 0
`;
/**
 * Gives a slot back (or leaves the line), and hands the free slots at once to the waiters entitled to
 * them, naming them on the FREED channel: they start without asking again, and no other waiter is
 * woken (every waiter of every process asking at once would cost Redis a walk of the line each).
 * KEYS: fleet slots, this repository's slots, the line, the waiters' details.
 * ARGV: globalCap, token, group slot prefix, ttlMs, channel.
 */
const GIVE_BACK = `${ENTITLED}
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
local named = {}
for _, next in ipairs(entitled(KEYS[1], KEYS[3], KEYS[4], tonumber(ARGV[1]), ARGV[3])) do
  local lapse = now + tonumber(ARGV[4])
  redis.call('ZADD', KEYS[1], lapse, next[1])
  redis.call('ZADD', ARGV[3] .. next[2], lapse, next[1])
  redis.call('ZREM', KEYS[3], next[1])
  redis.call('HDEL', KEYS[4], next[1])
  named[#named + 1] = next[1]
end
if #named > 0 then redis.call('PUBLISH', ARGV[5], table.concat(named, ',')) end
return #named
`;
const RENEW = `${LUA_NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), ARGV[2])
return 1
`;

/**
 * The fleet's caps on agents at work: `MAX_AGENTS` across all processes, and each repository's
 * `map.concurrency` across all processes. A job takes a slot before its run and gives it back when its
 * agent is done; one that finds the fleet full waits in its own process (whose own cap still applies),
 * in one line for the whole fleet by priority and label time.
 */
export class FleetSlots {
  readonly #redis: RedisClient;
  readonly #globalCap: number;
  readonly #ttlMs: number;
  /** Jobs of this process waiting for a slot, by token: each wakes, told whether it was handed one. */
  readonly #waiting = new Map<string, (handed: boolean) => void>();
  /** Tokens handed a slot while their job was not waiting (between two asks): it has one when it next looks. */
  readonly #handed = new Set<string>();

  /** `ttlMs`: a slot not renewed for this long is free again (its process died); renewed every third of it. */
  constructor(redis: RedisClient, globalCap: number, ttlMs: number) {
    this.#redis = redis;
    this.#globalCap = globalCap;
    this.#ttlMs = ttlMs;
  }

  /**
   * The fleet's slots, with waiting jobs woken as soon as a slot they may take is given back (instead
   * of at their next poll: a wave of a fleet's runs would start that much later).
   */
  static async start(redisUrl: string, redis: RedisClient, globalCap: number, ttlMs: number): Promise<FleetSlots> {
    const slots = new FleetSlots(redis, globalCap, ttlMs);
    // kept for the process's life, as the slots are
    const subscriber = await dedicatedRedis(redisUrl);
    subscriber.on('message', (_channel: string, tokens: string) => slots.#wake(tokens));
    await subscriber.subscribe(FREED);
    return slots;
  }

  /** Wakes the waiters of this process that were handed a slot (`tokens`, comma-separated). */
  #wake(tokens: string): void {
    for (const token of tokens.split(',')) {
      const wake = this.#waiting.get(token);
      if (wake) wake(true);
      else if (token.includes(`-${process.pid}-`)) this.#handed.add(token);
    }
  }

  /** Waits until the job is handed a slot (true), or for the next poll (false). */
  #nextChance(token: string): Promise<boolean> {
    if (this.#handed.delete(token)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (handed: boolean) => {
        clearTimeout(timer);
        this.#waiting.delete(token);
        resolve(handed);
      };
      const timer = setTimeout(() => wake(false), POLL_MS);
      this.#waiting.set(token, wake);
    });
  }

  /**
   * Runs `work`, and takes it a slot of the fleet and of its repository once it wants one (`wanted`:
   * a job may first get ready without one), waiting in the fleet's line until there is one or `signal`
   * aborts; `taken` says it has one (or, cancelled, never will). The slot goes back when `released`
   * resolves (the job's agent is done) or when `work` ends, whichever is first.
   */
  async run(
    job: { group: string; groupCap: number; priority: number; since: number; queuedAt: number }, work: () => Promise<void>,
    options: { signal: AbortSignal; wanted: Promise<void>; taken: () => void; released: Promise<void> },
  ): Promise<void> {
    const working = work();
    const ended = working.then(() => 'ended' as const, () => 'ended' as const);
    // a job that ends without asking (nothing to do) takes no slot
    if ((await Promise.race([options.wanted.then(() => 'wanted' as const), ended])) === 'ended') return working;

    const { group, groupCap } = job;
    const keys = [SLOTS, `${GROUP_SLOTS}${group}`];
    // the line sorts a tie of place (label times are whole seconds) by token: first queued first
    const token = `${lineTieBreak(job.queuedAt)}-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const place = lineScore(job);
    const giveBack = () => this.#redis.eval(GIVE_BACK, 4, ...keys, LINE, WAITERS, this.#globalCap, token, GROUP_SLOTS, this.#ttlMs, FREED)
      .catch(() => undefined); // not given back: it lapses, and the waiters poll
    // Redis away for a moment counts as full: ask again
    for (let handed = false; !handed;) {
      if (Number(await this.#redis.eval(TAKE, 4, ...keys, LINE, WAITERS, this.#globalCap, groupCap, this.#ttlMs, token, place, group, GROUP_SLOTS)
        .catch(() => 0)) === 1) break;
      // cancelled while it waited: the job goes on only to see that and say so, with no slot (one
      // handed to it meanwhile goes on to the next in line)
      if (options.signal.aborted) {
        this.#handed.delete(token);
        await giveBack();
        options.taken();
        return working;
      }
      handed = await this.#nextChance(token);
    }
    options.taken();
    const renewal = setInterval(() => void this.#redis.eval(RENEW, 2, ...keys, this.#ttlMs, token).catch(() => undefined), this.#ttlMs / 3);
    renewal.unref();
    let given: Promise<unknown> | undefined;
    const giveBackOnce = () => {
      clearInterval(renewal);
      given ??= giveBack();
      return given;
    };
    void options.released.then(giveBackOnce);
    try {
      await working;
    } finally {
      await giveBackOnce();
    }
  }
}

/** Sorts as text in the order of `queuedAt` (ms since the epoch): Redis orders a tie of scores by member. */
export function lineTieBreak(queuedAt: number): string {
  return String(Math.max(0, Math.floor(queuedAt))).padStart(15, '0');
}

/** A job's place in the fleet's line: priority jobs first, then by label time (ms since the epoch, below 10^13 until the year 2286). */
export function lineScore(job: { priority: number; since: number }): number {
  return (job.priority > 0 ? 0 : 1e13) + job.since;
}
