import { createHash } from 'node:crypto';
import os from 'node:os';
import type { RedisClient } from './connect-redis.js';
import { LUA_NOW } from '../redis-clock.js';

/** The fleet's live workers, scored by when each lapses unless it says again that it lives. */
const WORKERS = 'agent-mapreduce:workers';
/**
 * Each worker's load: `<worker>` its jobs (queued and running), `<worker>:pending` deliveries routed to
 * it and not yet handled; and `<worker>:repos`, how many repositories it holds.
 */
const LOAD = 'agent-mapreduce:worker-load';
/** Per repository (`<prefix><owner/repo>`), the workers that were given its work, and so hold its clone. */
const HOLDERS = 'agent-mapreduce:holders:';

/**
 * Picks the worker for a repository's delivery, in one step on Redis's clock, and counts the delivery
 * against it: the least loaded live worker that holds the repository's clone, unless it has more than
 * `slack` deliveries and jobs beyond the least loaded worker of all; then that one (of equally loaded
 * ones, the one holding fewest repositories), which becomes a holder too. No live worker: an empty
 * answer (the shared queue).
 * KEYS: workers, loads, the repository's holders. ARGV: the fleet's cap (the slack is a worker's fair share of it).
 */
const ROUTE = `${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
if #live == 0 then return '' end
local function load(w)
  return tonumber(redis.call('HGET', KEYS[2], w) or '0') + tonumber(redis.call('HGET', KEYS[2], w .. ':pending') or '0')
end
-- the least loaded worker; of equally loaded ones, the one holding the fewest repositories, so that
-- a burst of new repositories (whose first deliveries make no jobs) spreads over the fleet
local least, leastLoad, leastRepos, holder, holderLoad = nil, nil, nil, nil, nil
for _, w in ipairs(live) do
  local l = load(w)
  local repos = tonumber(redis.call('HGET', KEYS[2], w .. ':repos') or '0')
  if leastLoad == nil or l < leastLoad or (l == leastLoad and repos < leastRepos) then least, leastLoad, leastRepos = w, l, repos end
  if redis.call('SISMEMBER', KEYS[3], w) == 1 and (holderLoad == nil or l < holderLoad) then holder, holderLoad = w, l end
end
local slack = math.ceil(tonumber(ARGV[1]) / #live)
local chosen = least
if holder ~= nil and holderLoad <= leastLoad + slack then chosen = holder end
if redis.call('SADD', KEYS[3], chosen) == 1 then redis.call('HINCRBY', KEYS[2], chosen .. ':repos', 1) end
redis.call('HINCRBY', KEYS[2], chosen .. ':pending', 1)
return chosen
`;
/**
 * A routed delivery handled: no longer pending (never below zero, after a Redis restart say), and the
 * jobs it queued counted in the same step, so that the worker's load never drops between the two.
 */
const HANDLED = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':pending', -1)
if left < 0 then redis.call('HSET', KEYS[1], ARGV[1] .. ':pending', 0) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * Which worker of a fleet gets a repository's deliveries, so that its runs find the clone a worker
 * already holds (a clone is a full fetch and checkout; a fleet that spreads each repository over every
 * worker makes each of them clone it). A worker's load is its jobs plus the deliveries routed to it
 * that it has not handled yet, so that a burst of deliveries is spread before any is handled. Locality
 * gives way to balance: a holder with more than a fair share of the fleet's cap (`MAX_AGENTS` divided
 * by the live workers) beyond the least loaded worker gets no more of the repository's work, which
 * goes to the least loaded worker instead; so a full worker never holds work back that another could
 * start. A few Redis keys and one script, so written here: BullMQ routes a queue's jobs to whichever
 * worker asks first, with no say in which.
 */
export class FleetWorkers {
  readonly #redis: RedisClient;
  readonly #ttlMs: number;

  /** `ttlMs`: a worker that has not said it lives for this long gets no more deliveries. */
  constructor(redis: RedisClient, ttlMs: number) {
    this.#redis = redis;
    this.#ttlMs = ttlMs;
  }

  /** A web process's question: the worker for a delivery of `repository`, or undefined for whichever worker takes it first. */
  async route(repository: string, cap: number): Promise<string | undefined> {
    const chosen = await this.#redis.eval(ROUTE, 3, WORKERS, LOAD, HOLDERS + repository, cap);
    return typeof chosen === 'string' && chosen !== '' ? chosen : undefined;
  }

  /**
   * A worker's part: says every third of the lifetime that it lives, with its jobs counted by `jobs`
   * (and as they change, through the returned `changed`), and hears each time how many workers live
   * (`fleetSize`); `stop` takes it out of the routing at once.
   */
  live(worker: string, jobs: () => number, fleetSize: (workers: number) => void = () => undefined): { changed(): void; handled(): Promise<void>; stop(): Promise<void> } {
    const say = async () => {
      const live = await this.#redis.eval(LIVE, 2, WORKERS, LOAD, worker, this.#ttlMs, jobs()).catch(() => undefined); // Redis away: said again later
      if (typeof live === 'number' && live > 0) fleetSize(live);
    };
    void say();
    const timer = setInterval(() => void say(), this.#ttlMs / 3);
    timer.unref();
    let saying: Promise<void> | undefined;
    let again = false;
    return {
      // coalesced: a burst of scheduler events writes the count at most twice
      changed: () => {
        if (saying) {
          again = true;
          return;
        }
        saying = say().finally(() => {
          saying = undefined;
          if (again) {
            again = false;
            void say();
          }
        });
      },
      handled: async () => {
        await this.#redis.eval(HANDLED, 1, LOAD, worker, jobs()).catch(() => undefined);
      },
      stop: async () => {
        clearInterval(timer);
        await this.#redis.eval(LEAVE, 2, WORKERS, LOAD, worker).catch(() => undefined);
      },
    };
  }
}

/** Says a worker lives, with its jobs; answers how many workers live. */
const LIVE = `${LUA_NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;
const LEAVE = "redis.call('ZREM', KEYS[1], ARGV[1]); redis.call('HDEL', KEYS[2], ARGV[1]); return 1";

/**
 * A worker's name in the fleet's routing: the same for a process started again on the same machine and
 * disk (`WORK_DIR`), whose clones it finds there, and different for two workers on one machine.
 * BullMQ queue names are made from it, and may not contain `:`.
 */
export function fleetWorkerName(workDir: string): string {
  const disk = createHash('sha256').update(workDir).digest('hex').slice(0, 8);
  return `${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${disk}`;
}
