import type { Probot } from 'probot';
import type { Workspace } from './git/workspace.js';
import type { Logger } from './log.js';
import { reconcileAll, type ReconcileDeps } from './reconcile.js';
import type { Settings } from './settings/load-settings.js';
import { shutDown, type ShutDownDeps } from './shut-down.js';

/**
 * At start-up: clear worktrees a previous process left behind, then reconcile now and every
 * RECONCILE_INTERVAL. Passes never overlap; a failed pass is logged and the next one tries again.
 * On SIGTERM: stop the timer and shut down gracefully (SHUTDOWN_GRACE), then exit.
 */
/** What runs in the background: the start-up clean-up, the reconcile passes and the graceful stop. */
export interface BackgroundDeps extends ReconcileDeps, ShutDownDeps {
  settings: Settings;
  workspace: Workspace;
}

export function startBackground(probot: Probot, services: BackgroundDeps, log: Logger): { stop(): void; pass(): Promise<void> } {
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
  // said once: from here on the process has looked at everything GitHub had when it started
  void pass().then(() => log.info('start-up reconcile done'));
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
