import type { SpendStore } from './issue-spend.js';
import type { RedisClient } from '../jobs/connect-redis.js';

/** An issue's sum is kept for this long after its last run: an issue with no run for half a year starts again. */
const KEEP_S = 183 * 24 * 3600;

/** Adds micro-dollars and a run to one hash, in one step. */
const ADD = "redis.call('HINCRBY', KEYS[1], 'micros', ARGV[1]); redis.call('HINCRBY', KEYS[1], 'runs', 1); redis.call('EXPIRE', KEYS[1], ARGV[2]); return 1";
const GET = "return redis.call('HMGET', KEYS[1], 'micros', 'runs')";

/** Each issue's spend in a fleet's Redis: every process adds to one sum, and a restart keeps it. */
export class RedisSpendStore implements SpendStore {
  readonly #redis: Promise<RedisClient>;

  constructor(redis: Promise<RedisClient>) {
    this.#redis = redis;
  }

  async add(key: string, micros: number): Promise<void> {
    await (await this.#redis).eval(ADD, 1, `agent-mapreduce:spend:${key}`, micros, KEEP_S);
  }

  async get(key: string): Promise<{ micros: number; runs: number }> {
    const [micros, runs] = await (await this.#redis).eval(GET, 1, `agent-mapreduce:spend:${key}`) as Array<string | null>;
    return { micros: Number(micros ?? 0), runs: Number(runs ?? 0) };
  }
}
