import type { Probot } from 'probot';
import { countedAndPaced, createOctokitGitHub } from './github/octokit-github.js';
import { FleetReduce, type FleetPasses } from './jobs/fleet-passes.js';
import type { Services } from './services.js';

/** Passes of different bases one process runs at once. */
const PASSES_AT_ONCE = 4;
/**
 * A pass whose process stops renewing its lock is given to another after this long (BullMQ's default):
 * a pass does long git work, so a busy process must not lose it by a short stall.
 */
const PASS_LOCK_MS = 30_000;

/**
 * Joins the fleet that shares REDIS_URL: this process takes reduce passes from the shared queue and
 * runs each as the single process would, reaching the repository again as its installation.
 */
export function startFleet(app: Probot, services: Services, redisUrl: string): Promise<FleetPasses> {
  return FleetReduce.start({
    redisUrl,
    concurrency: PASSES_AT_ONCE,
    lockMs: PASS_LOCK_MS,
    log: app.log,
    runHere: async ({ installationId, owner, repo, baseRef, defaultBranch, cloneUrl }, signal) => {
      const octokit = await app.auth(installationId);
      const github = createOctokitGitHub(octokit, { owner, repo, installationId, ...countedAndPaced(services, installationId) });
      const config = await services.configs.get(github);
      if (!config.ok || !config.config.reduce.enabled) return;
      const log = app.log.child({ repo: `${owner}/${repo}`, fleet: true });
      await services.reduce.runHere({ github, repository: { defaultBranch, cloneUrl }, baseRef, config: config.config, log, signal });
    },
  });
}
