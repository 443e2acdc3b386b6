import type { RedisClient } from './connect-redis.js';
import { LUA_NOW } from '../redis-clock.js';
import { lineScore, lineTieBreak } from './fleet-slots.js';
import type { JobQueue } from './job-queue.js';

/** Every process's queued jobs (`<queued at> <key>`), by their place in the fleet's line (priority, then label time, then queued at). */
const QUEUED = 'agent-mapreduce:queued';
/** When each queued job's entry lapses unless its process says again that it is still queued. */
const LAPSES = 'agent-mapreduce:queued-lapse';
/** Each queued job's entry by its key (`<owner>/<repo>#<n>`), to answer whether some process has queued an issue. */
const BY_KEY = 'agent-mapreduce:queued-keys';

/**
 * `keyOf`: the key at the end of an entry (`<queued at> <key>`); `forget`: an entry out of the line,
 * out of the lapses and, unless a newer entry of its key replaced it, out of the entries by key.
 * KEYS of the scripts that use them: queued, lapses, by key.
 */
const LUA_ENTRIES = `
local function keyOf(member) return string.match(member, '^%S+ (.+)$') end
local function forget(member)
  redis.call('ZREM', KEYS[1], member)
  redis.call('HDEL', KEYS[2], member)
  if redis.call('HGET', KEYS[3], keyOf(member)) == member then redis.call('HDEL', KEYS[3], keyOf(member)) end
end
`;

/** KEYS: queued, lapses, by key. ARGV: ttlMs, then member and score pairs. */
const ADD = `${LUA_NOW}
${LUA_ENTRIES}
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], now + tonumber(ARGV[1]))
  redis.call('HSET', KEYS[3], keyOf(ARGV[i]), ARGV[i])
end
return 1
`;
/** KEYS: queued, lapses, by key. ARGV: the member. */
const REMOVE = `${LUA_ENTRIES}
forget(ARGV[1])
return 1
`;
/** KEYS: lapses, by key. ARGV: the keys asked. Each one's time left until its entry lapses (0: not queued). */
const QUEUED_LEFT = `${LUA_NOW}
local out = {}
for i, key in ipairs(ARGV) do
  out[i] = 0
  local member = redis.call('HGET', KEYS[2], key)
  local lapse = member and tonumber(redis.call('HGET', KEYS[1], member))
  if lapse and lapse > now then out[i] = lapse - now end
end
return out
`;
/**
 * Drops lapsed entries (a dead process's queue), then answers how many are queued in the fleet and
 * each asked member's place among them (0: not queued). KEYS: queued, lapses, by key. ARGV: the members.
 */
const PLACES = `${LUA_NOW}
${LUA_ENTRIES}
local lapses = redis.call('HGETALL', KEYS[2])
for i = 1, #lapses, 2 do
  if tonumber(lapses[i + 1]) < now then forget(lapses[i]) end
end
local out = { redis.call('ZCARD', KEYS[1]) }
for i, key in ipairs(ARGV) do
  local rank = redis.call('ZRANK', KEYS[1], key)
  if rank then out[i + 1] = rank + 1 else out[i + 1] = 0 end
end
return out
`;

/**
 * The fleet's queued jobs in one line, so that an issue's status shows its place among all of them,
 * not among its own process's: each process adds its jobs as they are queued and takes them out as
 * they start or leave, and says every third of the lifetime that those still waiting are; a dead
 * process's entries lapse.
 */
export class FleetQueue {
  readonly #redis: RedisClient;
  readonly #ttlMs: number;
  /** This process's queued jobs: each one's member in the line (first queued first among ties) and score. */
  readonly #mine = new Map<string, { member: string; score: number }>();

  constructor(redis: RedisClient, ttlMs: number) {
    this.#redis = redis;
    this.#ttlMs = ttlMs;
  }

  /** Keeps this process's queued jobs in the fleet's line (Redis away: the next renewal adds them again). */
  follow(queue: JobQueue): void {
    const add = (entries: Array<{ member: string; score: number }>) => {
      if (entries.length === 0) return;
      void this.#redis.eval(ADD, 3, QUEUED, LAPSES, BY_KEY, this.#ttlMs, ...entries.flatMap((e) => [e.member, e.score])).catch(() => undefined);
    };
    queue.onEvent((event) => {
      if (event.kind === 'queued') {
        const entry = { member: `${lineTieBreak(event.queuedAt)} ${event.key}`, score: lineScore(event) };
        this.#mine.set(event.key, entry);
        add([entry]);
      } else if (event.kind === 'started' || event.kind === 'dequeued') {
        const entry = this.#mine.get(event.key);
        if (!entry) return;
        this.#mine.delete(event.key);
        void this.#redis.eval(REMOVE, 3, QUEUED, LAPSES, BY_KEY, entry.member).catch(() => undefined);
      }
    });
    const renewal = setInterval(() => add([...this.#mine.values()]), this.#ttlMs / 3);
    renewal.unref();
  }

  /** How many jobs wait in the fleet, and the place among them of each of `keys` queued here (undefined: not queued). */
  async places(keys: string[]): Promise<{ places: Map<string, number | undefined>; of: number }> {
    const members = keys.map((key) => this.#mine.get(key)?.member ?? '');
    const [of, ...ranks] = (await this.#redis.eval(PLACES, 3, QUEUED, LAPSES, BY_KEY, ...members)) as number[];
    return { places: new Map(keys.map((key, i) => [key, ranks[i] ? ranks[i] : undefined])), of: of ?? 0 };
  }

  /**
   * Which of `keys` another process has queued (not started yet: a started job holds its lock), each
   * with how long until that entry lapses unless its process renews it (Redis away: none).
   */
  async queuedElsewhere(keys: string[]): Promise<Map<string, number>> {
    const asked = keys.filter((key) => !this.#mine.has(key));
    if (asked.length === 0) return new Map();
    const left = (await this.#redis.eval(QUEUED_LEFT, 2, LAPSES, BY_KEY, ...asked).catch(() => [])) as number[];
    return new Map(asked.flatMap((key, i) => ((left[i] ?? 0) > 0 ? [[key, left[i]!] as const] : [])));
  }
}
