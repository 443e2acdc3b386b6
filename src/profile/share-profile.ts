import os from 'node:os';
import type { Logger } from '../log.js';
import type { Profile, SharedRecord } from './profile.js';

/** One Redis stream holds what every process of the fleet recorded, the latest first to go. */
const STREAM = 'agent-mapreduce:profile';
/** About this many records are kept: a process that starts reads them back, so its dashboard shows the fleet's recent past. */
const KEEP = 20_000;
/** Records read at a time, and how long a read waits for new ones. */
const BATCH = 500;
const BLOCK_MS = 5_000;

interface StreamWriter {
  xadd(...args: Array<string | number>): Promise<unknown>;
  quit(): Promise<unknown>;
}
type StreamEntries = Array<[string, Array<[string, string[]]>]> | null;
interface StreamReader {
  xread(...args: Array<string | number>): Promise<StreamEntries>;
  disconnect(): void;
}

/**
 * The dashboard of any process of a fleet shows the whole fleet: each process appends what its
 * profile records to one Redis stream, and reads what the others appended into its own profile (shown,
 * not counted: each process's `/metrics` count only its own work). A web process (ROLE=web) runs
 * nothing, so its dashboard is all the others'. Loaded only with REDIS_URL.
 */
export async function shareProfile(redisUrl: string, profile: Profile, log: Logger): Promise<{ close(): Promise<void> }> {
  const { Redis } = await import('ioredis');
  const writer = new Redis(redisUrl, { commandTimeout: 5_000, maxRetriesPerRequest: 1 }) as unknown as StreamWriter & { on(e: string, f: () => void): void };
  // a blocking read needs a connection of its own
  const reader = new Redis(redisUrl, { maxRetriesPerRequest: null }) as unknown as StreamReader & { on(e: string, f: () => void): void };
  writer.on('error', () => undefined); // the app's own Redis connection reports outages
  reader.on('error', () => undefined);
  const self = `${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // a record Redis does not take is only missing from the other dashboards
  profile.shareWith((item) => void writer.xadd(STREAM, 'MAXLEN', '~', KEEP, '*', 'from', self, 'item', JSON.stringify(item)).catch(() => undefined));

  let stopped = false;
  const reading = (async () => {
    let last = '0'; // from the oldest record kept
    while (!stopped) {
      const batch = await reader.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', STREAM, last).catch(async () => {
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1_000)); // Redis away: try again
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
  return {
    async close() {
      stopped = true;
      reader.disconnect();
      await reading;
      await writer.quit().catch(() => undefined);
    },
  };
}

function pairs(fields: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}
