import type { Probot } from 'probot';
import type { Logger } from '../log.js';
import type { Services } from '../services.js';
import { shutDown } from '../shut-down.js';
import { reconcileAll } from './reconcile.js';

/**
 * At start-up: clear worktrees a previous process left behind, then reconcile now and every
 * RECONCILE_INTERVAL. Passes never overlap; a failed pass is logged and the next one tries again.
 * On SIGTERM: stop the timer and shut down gracefully (SHUTDOWN_GRACE), then exit.
 */
export function startBackground(probot: Probot, services: Services, log: Logger): { stop(): void; pass(): Promise<void> } {
  let running: Promise<void> | undefined;
  const cleaned = services.workspace.cleanStartup().catch((err: unknown) => log.error({ err }, 'start-up clean-up failed'));
  const pass = () => {
    running ??= (async () => {
      await cleaned;
      await reconcileAll(probot, services, log);
    })()
      .catch((err: unknown) => log.error({ err }, 'reconcile pass failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  void pass();
  const timer = setInterval(() => void pass(), services.settings.reconcileIntervalMs);
  timer.unref();
  const onTerm = () => {
    clearInterval(timer);
    void shutDown(services, { graceMs: services.settings.shutdownGraceMs, log }).finally(() => process.exit(0));
  };
  process.once('SIGTERM', onTerm);
  return {
    pass,
    stop: () => {
      clearInterval(timer);
      process.removeListener('SIGTERM', onTerm);
    },
  };
}
