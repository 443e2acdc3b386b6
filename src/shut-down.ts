import type { Logger } from './log.js';
import type { Services } from './services.js';
import { ShutdownError } from './map/issue-job.js';

/**
 * A graceful stop (SIGTERM): take no new work, let running agents finish within the grace period,
 * then interrupt the rest. Interrupted and queued runs keep a non-final status, so the next start's
 * reconcile runs them again; nothing is lost and nothing runs twice at once.
 */
export async function shutDown(services: Services, options: { graceMs: number; log: Logger }): Promise<void> {
  const { scheduler } = services;
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
  await services.reduce.idle();
  options.log.info('shut down');
}
