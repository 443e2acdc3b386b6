import { LUA_NOW } from '../redis-clock.js';
import { DEFAULT_WRITE_LIMITS, WaitingWrites, type WriteAllowance, type WriteKind, type WriteLimits } from './write-budget.js';

/**
 * Takes one write from an installation's sliding windows kept in Redis, on Redis's own clock (so the
 * processes' clocks do not matter), in one step: the answer is 0 when the write is recorded, or how
 * many ms until one fits.
 */
const TAKE = `${LUA_NOW}
local minute, hour = tonumber(ARGV[1]), tonumber(ARGV[2])
local perMinute, perHour = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - hour)
local inHour = redis.call('ZCARD', KEYS[1])
local recent = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - minute), '+inf', 'WITHSCORES')
local inMinute = #recent / 2
local wait = 0
if inMinute >= perMinute then
  wait = math.max(wait, tonumber(recent[(inMinute - perMinute) * 2 + 2]) + minute - now)
end
if inHour >= perHour then
  local oldest = redis.call('ZRANGE', KEYS[1], inHour - perHour, inHour - perHour, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + hour - now)
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], hour)
return 0
`;

export interface RedisScripts {
  eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * One installation's write budget shared by every process of a fleet (REDIS_URL): the same sliding
 * windows as `WriteBudget`, kept in Redis, so that N processes together stay under GitHub's secondary
 * limit. Each process sends its own waiting writes in priority order (merges, PRs, comments); across
 * processes, whoever asks first when room appears goes first.
 */
export class SharedWriteBudget implements WriteAllowance {
  readonly #redis: Promise<RedisScripts>;
  readonly #key: string;
  readonly #limits: WriteLimits;
  readonly #waiting = new WaitingWrites();
  #pumping = false;

  constructor(redis: Promise<RedisScripts>, key: string, limits: WriteLimits = DEFAULT_WRITE_LIMITS) {
    this.#redis = redis;
    this.#key = key;
    this.#limits = limits;
  }

  get waiting(): number {
    return this.#waiting.size;
  }

  take(kind: WriteKind): Promise<void> {
    const taken = this.#waiting.add(kind);
    void this.#pump();
    return taken;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiting.size > 0) {
        const wait = await this.#tryTake().catch(() => 1_000); // Redis away: ask again in a second, never fail the write
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref?.());
        else this.#waiting.release();
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #tryTake(): Promise<number> {
    const { minuteMs = 60_000, hourMs = 3_600_000, perMinute, perHour } = this.#limits;
    const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    return Number(await (await this.#redis).eval(TAKE, 1, this.#key, minuteMs, hourMs, perMinute, perHour, token));
  }
}
