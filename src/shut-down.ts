import type { Logger } from './log.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { MapService } from './map/map-service.js';
import type { ReduceService } from './reduce/reduce-service.js';
import { ShutdownError } from './map/issue-job.js';
import type { RedisClient } from './jobs/connect-redis.js';
import type { FleetCancel } from './jobs/fleet-cancel.js';
import type { FleetEvents } from './jobs/fleet-events.js';

/**
 * A graceful stop (SIGTERM): take no new work, let running agents finish within the grace period,
 * then interrupt the rest. Interrupted and queued runs keep a non-final status, so the next start's
 * reconcile runs them again; nothing is lost and nothing runs twice at once.
 */
/** What a graceful stop stops. */
export interface ShutDownDeps {
  scheduler: JobQueue;
  map: MapService;
  reduce: ReduceService;
  redis?: Promise<RedisClient> | undefined;
  cancels?: Promise<FleetCancel> | undefined;
  fleetEvents?: Promise<FleetEvents> | undefined;
  profileSharing?: Promise<{ stop(): Promise<void> }> | undefined;
}

export async function shutDown(services: ShutDownDeps, options: { graceMs: number; log: Logger }): Promise<void> {
  const { scheduler } = services;
  // a fleet worker takes no more deliveries: the other workers do (what it was handling, the reconcile redoes)
  const noMoreDeliveries = services.fleetEvents?.then((events) => events.close()).catch(() => undefined);
  const dropped = scheduler.stopAccepting();
  options.log.info({ queued: dropped.length, running: scheduler.runningKeys().length }, 'shutting down: no new work');
  const finished = await Promise.race([
    scheduler.idle().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), options.graceMs).unref()),
  ]);
  if (!finished) {
    for (const key of scheduler.runningKeys()) scheduler.cancel(key, new ShutdownError('agent-mapreduce is restarting'));
    await scheduler.idle();
  }
  services.map.stop();
  await noMoreDeliveries;
  await services.reduce.closeFleet();
  await (await services.cancels)?.close();
  // the runs' ends and interruptions recorded last reach the other processes' dashboards
  await (await services.profileSharing?.catch(() => undefined))?.stop();
  await (await services.redis)?.quit().catch(() => undefined);
  await services.reduce.idle();
  options.log.info('shut down');
}
