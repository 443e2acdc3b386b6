import os from 'node:os';
import { dedicatedRedis, type RedisClient } from '../jobs/connect-redis.js';
import type { Logger } from '../log.js';
import type { Profile, SharedRecord } from './profile.js';

/** One Redis stream holds what every process of the fleet recorded, the latest first to go. */
const STREAM = 'agent-mapreduce:profile';
/** About this many records are kept: a process that starts reads them back, so its dashboard shows the fleet's recent past. */
const KEEP = 20_000;
/** Records read at a time, and how long a read waits for new ones. */
const BATCH = 500;
const BLOCK_MS = 5_000;

/**
 * The dashboard of any process of a fleet shows the whole fleet: each process appends what its
 * profile records to one Redis stream, and reads what the others appended into its own profile (shown,
 * not counted: each process's `/metrics` count only its own work). A web process (ROLE=web) runs
 * nothing, so its dashboard is all the others'. Appends go through the app's command connection;
 * reads block, so they have a connection of their own, kept for the process's life.
 */
export async function shareProfile(redisUrl: string, redis: Promise<RedisClient>, profile: Profile, log: Logger): Promise<void> {
  const [writer, reader] = await Promise.all([redis, dedicatedRedis(redisUrl)]);
  const self = `${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // a record Redis does not take is only missing from the other dashboards
  profile.shareWith((item) => void writer.xadd(STREAM, 'MAXLEN', '~', KEEP, '*', 'from', self, 'item', JSON.stringify(item)).catch(() => undefined));

  void (async () => {
    let last = '0'; // from the oldest record kept
    for (;;) {
      const batch = await reader.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', STREAM, last).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_000)); // Redis away: try again
        return null;
      });
      for (const [, entries] of batch ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const record = Object.fromEntries(pairs(fields));
          if (record.from === self || record.item === undefined) continue;
          try {
            profile.recordFromFleet(JSON.parse(record.item) as SharedRecord);
          } catch (err) {
            log.debug({ err, id }, 'a fleet profile record was not read');
          }
        }
      }
    }
  })();
}

function pairs(fields: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}
