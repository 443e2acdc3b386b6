import os from 'node:os';
import { dedicatedRedis, type RedisClient } from '../jobs/connect-redis.js';
import type { Logger } from '../log.js';
import type { Profile, SharedRecord } from './profile.js';

/** One Redis stream holds what every process of the fleet recorded, the oldest first to go. */
const STREAM = 'agent-mapreduce:profile';
/**
 * About this many entries (batches of records, FLUSH_MS) are kept: a process that starts reads them
 * back, so its dashboard shows the fleet's recent past.
 */
const KEEP = 2_000;
/** Entries read at a time, and how long a read waits for new ones. */
const BATCH = 500;
/**
 * A process's records go out together, at most this often: an agent at work records each of its
 * steps, and one stream entry per record cost every process a Redis command and a wake-up per step
 * of every agent of the fleet.
 */
const FLUSH_MS = 250;
const BLOCK_MS = 5_000;

/**
 * The dashboard of any process of a fleet shows the whole fleet: each process appends what its
 * profile records to one Redis stream, a batch per entry (FLUSH_MS), and reads what the others
 * appended into its own profile (shown, not counted: each process's `/metrics` count only its own
 * work). A web process (ROLE=web) runs nothing, so its dashboard is all the others'. Appends go
 * through the app's command connection; reads block, so they have a connection of their own, kept
 * until `stop`.
 */
export async function shareProfile(redisUrl: string, redis: Promise<RedisClient>, profile: Profile, log: Logger): Promise<{ stop(): Promise<void> }> {
  const [writer, reader] = await Promise.all([redis, dedicatedRedis(redisUrl)]);
  const self = `${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let waiting: SharedRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    timer = undefined;
    const items = waiting;
    waiting = [];
    if (items.length === 0) return;
    // a batch Redis does not take is only missing from the other dashboards
    await writer.xadd(STREAM, 'MAXLEN', '~', KEEP, '*', 'from', self, 'items', JSON.stringify(items)).catch(() => undefined);
  };
  profile.shareWith((item) => {
    if (waiting.push(item) === 1) timer = setTimeout(() => void flush(), FLUSH_MS).unref();
  });

  let stopped = false;
  void (async () => {
    let last = '0'; // from the oldest entry kept
    while (!stopped) {
      const batch = await reader.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', STREAM, last).catch(async () => {
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1_000)); // Redis away: try again
        return null;
      });
      for (const [, entries] of batch ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const entry = Object.fromEntries(pairs(fields));
          if (entry.from === self || entry.items === undefined) continue;
          let items: SharedRecord[];
          try {
            items = JSON.parse(entry.items) as SharedRecord[];
          } catch (err) {
            log.debug({ err, id }, 'a fleet profile batch was not read');
            continue;
          }
          // one record the profile cannot take costs the dashboard that record, not the rest of its batch
          for (const item of items) {
            try {
              profile.recordFromFleet(item);
            } catch (err) {
              log.debug({ err, id }, 'a fleet profile record was not read');
            }
          }
        }
      }
    }
  })();
  return {
    // what waits to go out goes now; the reads end (the one under way fails as its connection closes)
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await flush();
      reader.disconnect();
    },
  };
}

function pairs(fields: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}
