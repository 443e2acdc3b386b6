import os from 'node:os';
import type { Agent } from './agents/agent.js';
import type { RepoConfig } from './config/schema.js';
import { ConfigCache } from './config/config-cache.js';
import { IssueStatuses } from './status/issue-statuses.js';
import { MarkedComments } from './github/marked-comment.js';
import { PermissionCache } from './github/permission-cache.js';
import { WriteBudgets } from './github/write-budget.js';
import { ReadCache } from './github/conditional-reads.js';
import { botIdentityResolver } from './github/resolve-bot-identity.js';
import { appSecrets } from './git/find-secrets.js';
import { Workspace } from './git/workspace.js';
import type { Logger } from './log.js';
import { MapService } from './map/map-service.js';
import { Scheduler } from './jobs/scheduler.js';
import { RateLimitGate } from './jobs/rate-limit-gate.js';
import { RevisionService } from './revise/revision-service.js';
import { ReduceService } from './reduce/reduce-service.js';
import { agentFactory } from './agents/create-agent.js';
import type { Settings } from './settings/load-settings.js';
import { Profile } from './profile/profile.js';
import type { Sandbox } from './sandbox/sandbox.js';
import { startSandbox } from './sandbox/start-sandbox.js';
import { IssueSpend } from './pipeline/issue-spend.js';
import { RedisSpendStore } from './pipeline/redis-spend-store.js';
import { FleetLocks } from './jobs/fleet-locks.js';
import { FleetSlots } from './jobs/fleet-slots.js';
import { FleetQueue } from './jobs/fleet-queue.js';
import { connectRedis, type RedisClient } from './jobs/connect-redis.js';
import { FleetCancel } from './jobs/fleet-cancel.js';
import type { FleetEvents } from './jobs/fleet-events.js';
import { SharedWriteBudget } from './github/shared-write-budget.js';
import type { Exclusive } from './jobs/scheduler.js';

/** What lives as long as the process and is shared by every handler. */
export interface Services {
  settings: Settings;
  comments: MarkedComments;
  statuses: IssueStatuses;
  configs: ConfigCache;
  permissions: PermissionCache;
  scheduler: Scheduler;
  workspace: Workspace;
  map: MapService;
  revisions: RevisionService;
  reduce: ReduceService;
  profile: Profile;
  spend: IssueSpend;
  /** A fleet's Redis connection (REDIS_URL) for locks and the shared write budget, closed at shutdown. */
  redis: Promise<RedisClient> | undefined;
  /**
   * In a fleet (REDIS_URL, a process that runs jobs): which issues another process has queued or runs,
   * each with how long until that claim lapses unless its process renews it.
   */
  fleetClaims?: Promise<{ held(keys: string[]): Promise<Map<string, number>> }> | undefined;
  /** A fleet's cancels across processes (REDIS_URL), closed at shutdown. */
  cancels: Promise<FleetCancel> | undefined;
  /** A fleet worker's intake of the deliveries its web processes queued (ROLE=worker); closed first at shutdown. */
  fleetEvents?: Promise<FleetEvents> | undefined;
  /** A fleet process's part in the fleet's dashboards (profile/share-profile.ts); at shutdown its last records go out. */
  profileSharing?: Promise<{ stop(): Promise<void> }> | undefined;
  /** One budget of notifying writes per installation, shared by every pipeline. */
  writes: WriteBudgets;
  /** The last answers of GitHub reads, for conditional requests. */
  reads: ReadCache;
}

export interface ServiceParts {
  settings: Settings;
  log: Logger;
  /** The process environment: the model key and a command agent's passed variables come from it. */
  env: NodeJS.ProcessEnv;
  /** Which agent runs an issue; by default the one the repository's config asks for. */
  createAgent?: (config: RepoConfig) => Agent;
  /** The app's slug, for its bot user's name; needs the app's own (JWT) authentication. */
  appSlug(): Promise<string>;
  gitEnv?: Record<string, string>;
  /** Where repository and agent code runs; by default the one the settings ask for, self-tested at start. */
  sandbox?: Sandbox;
}

export function createServices(parts: ServiceParts): Services {
  const { settings } = parts;
  const comments = new MarkedComments(settings.appId);
  const statuses = new IssueStatuses(comments);
  // a fleet's processes (REDIS_URL) run each issue's job in one of them only, and share each installation's write budget
  const redis = settings.redisUrl ? connectRedis(settings.redisUrl, parts.log) : undefined;
  redis?.catch((err: unknown) => parts.log.error({ err }, 'no Redis client: the fleet features cannot start'));
  // a fleet's web process (ROLE=web) runs no job: it needs neither the fleet's locks and slots nor its cancels
  const runsJobs = redis && settings.role !== 'web' ? redis : undefined;
  const fleetLocks = runsJobs?.then((client) => new FleetLocks(client, settings.fleetLockMs));
  const scheduler = new Scheduler({
    globalCap: settings.maxAgents, ...(runsJobs && fleetLocks ? { exclusive: exclusiveIn(runsJobs, fleetLocks, settings, parts.log) } : {}),
  });
  const writes = new WriteBudgets(settings.writeLimits,
    redis ? (installationId, limits) => new SharedWriteBudget(redis, `agent-mapreduce:writes:${installationId}`, limits) : undefined);
  const profile = new Profile({
    load: scheduler, webBase: settings.webBase, writesWaiting: () => writes.waiting,
    // a fleet's processes are told apart in a scrape of them all
    ...(settings.redisUrl ? { labels: { worker: `${os.hostname()}-${process.pid}`, role: settings.role } } : {}),
  });
  profile.follow(scheduler);
  const rateLimits = new RateLimitGate(scheduler);
  const sandbox = parts.sandbox ?? startSandbox(settings.sandbox, parts.log);
  const createAgent = parts.createAgent ?? agentFactory({
    settings,
    env: parts.env,
    sandbox,
    ...(parts.gitEnv ? { gitEnv: parts.gitEnv } : {}),
    onModelRequest: (status) => profile.modelRequest(status),
    onRateLimited: (ms) => {
      parts.log.warn({ retryAfterMs: ms }, 'model API rate limited: starting fewer runs');
      rateLimits.limit(ms);
    },
  });
  // up to three times the cap of worktrees are in use (runs getting ready ahead of their slot, agents
  // at work, runs publishing after giving their slot back); keeping that many wiped spares saves the
  // next runs a full checkout each
  const workspace = new Workspace({
    workDir: settings.workDir, log: parts.log, env: parts.gitEnv ?? {}, secrets: appSecrets(parts.env), maxIdleWorktrees: 3 * settings.maxAgents,
  });
  const permissions = new PermissionCache();
  const pipelineDeps = {
    settings,
    workspace,
    comments,
    statuses,
    permissions,
    profile,
    spend: new IssueSpend(redis ? new RedisSpendStore(redis) : undefined),
    createAgent,
    sandbox,
    botIdentity: botIdentityResolver(parts.appSlug, settings.noreplyDomain),
    ...(parts.gitEnv ? { gitEnv: parts.gitEnv } : {}),
  };
  const map = new MapService(pipelineDeps, scheduler);
  const cancels = runsJobs && settings.redisUrl ? fleetCancels(settings.redisUrl, runsJobs, map, parts.log) : undefined;
  let fleetClaims: Services['fleetClaims'];
  if (cancels && runsJobs && fleetLocks) {
    const line = runsJobs.then((client) => {
      const queue = new FleetQueue(client, settings.fleetLockMs);
      queue.follow(scheduler);
      return queue;
    });
    map.useFleet(cancels, line);
    fleetClaims = Promise.all([fleetLocks, line]).then(([locks, queue]) => ({ held: (keys: string[]) => claimed(locks, queue, keys) }));
  }
  const revisions = new RevisionService(pipelineDeps, scheduler);
  const reduce = new ReduceService({
    ...pipelineDeps, mergeCache: new Map(), shownOrder: new Map(), trainNumbers: new Map(), mergeQueue: { bases: new Set(), queued: new Map() },
    resolveConflict: (pass, pullNumber, issueNumber) => revisions.rebase({
      github: pass.github, repository: pass.repository, pullNumber, issueNumber, config: pass.config, log: pass.log,
    }),
  });
  return {
    settings, comments, statuses, configs: new ConfigCache(), permissions, scheduler, workspace, map, revisions, reduce, profile, spend: pipelineDeps.spend, writes,
    redis,
    fleetClaims,
    cancels,
    reads: new ReadCache(),
  };
}

/** Issues another process runs (its lock) or has queued (its entry in the fleet's line), with the longer time left of the two. */
async function claimed(locks: FleetLocks, queue: FleetQueue, keys: string[]): Promise<Map<string, number>> {
  const [running, queued] = await Promise.all([locks.held(keys), queue.queuedElsewhere(keys)]);
  for (const [key, left] of queued) running.set(key, Math.max(left, running.get(key) ?? 0));
  return running;
}

/**
 * A job runs here only while this process holds its issue's lock (waiting while another process holds
 * it) and a slot of the fleet's caps.
 */
function exclusiveIn(redis: Promise<RedisClient>, fleetLocks: Promise<FleetLocks>, settings: Settings, log: Logger): Exclusive {
  const fleet = redis.then(async (client) => ({
    locks: await fleetLocks,
    slots: await FleetSlots.start(settings.redisUrl!, client, settings.maxAgents, settings.fleetLockMs),
  }));
  return async (job, run, { controller, slotWanted, slotTaken, slotReleased, parked, queuedAt }) => {
    const { locks, slots } = await fleet;
    const locked = () => {
      parked(false);
      return slots.run({ ...job, queuedAt }, run, { signal: controller.signal, wanted: slotWanted, taken: slotTaken, released: slotReleased });
    };
    await locks.runExclusive(job.key, locked, {
      signal: controller.signal,
      onWait: () => {
        log.info({ key: job.key }, 'job waits: another process of the fleet runs this issue');
        parked(true);
      },
      onLost: () => controller.abort(new Error('the fleet lock of this issue was lost')),
    });
  };
}

/** Listens for the fleet's cancels; if it cannot, that is logged and each cancel stays in its process. */
function fleetCancels(redisUrl: string, redis: Promise<RedisClient>, map: MapService, log: Logger): Promise<FleetCancel> {
  const cancels = redis.then((client) => FleetCancel.start(redisUrl, client, (key, reason) => void map.cancelHere(key, reason)));
  cancels.catch((err: unknown) => log.error({ err }, 'fleet cancels not started: a cancel reaches only its own process'));
  return cancels;
}
