import type { ApplicationFunction, Context, Probot } from 'probot';
import { FleetEvents } from './jobs/fleet-events.js';
import { FleetWorkers, fleetWorkerName } from './jobs/fleet-workers.js';
import type { RedisClient } from './jobs/connect-redis.js';
import { refused } from './sandbox/sandbox.js';
import type { Agent } from './agents/agent.js';
import type { RepoConfig } from './config/schema.js';
import { onCiResult } from './handlers/on-ci-result.js';
import { onIssueComment, personsCommand } from './handlers/on-issue-comment.js';
import { labelByPerson, onIssueLabeled } from './handlers/on-issue-labeled.js';
import { mayStopJob, onIssueUnlabeledOrClosed } from './handlers/on-issue-unlabeled-or-closed.js';
import { onPullRequestActivity } from './handlers/on-pull-request-activity.js';
import { onPullRequestReview } from './handlers/on-pull-request-review.js';
import { onPush } from './handlers/on-push.js';
import { onHoldReleased } from './handlers/on-hold-released.js';
import { onReduceTrigger } from './handlers/on-reduce-trigger.js';
import { startBackground } from './start-background.js';
import { startFleet } from './start-fleet.js';
import { profileRoutes } from './profile/profile-routes.js';
import { shareProfile } from './profile/share-profile.js';
import { createServices, type Services } from './services.js';
import { loadSettings, type Settings } from './settings/load-settings.js';

export interface AppOptions {
  /** Which agent runs an issue; the configured one by default. */
  createAgent?: (config: RepoConfig) => Agent;
  /** Extra environment for every git command (tests shut out the machine's git config with it). */
  gitEnv?: Record<string, string>;
  /** Start-up clean-up and the reconcile timer; on by default. */
  background?: boolean;
  /** Hands the process's services to the caller (tests and benchmarks observe the scheduler). */
  onServices?: (services: Services, background?: ReturnType<typeof startBackground>) => void;
}

/** Wires the webhook handlers to the pipelines; nothing else happens here. */
export function createApp(settings: Settings, options: AppOptions = {}): ApplicationFunction {
  return (app, probotOptions) => {
    const web = settings.role === 'web';
    const services = createServices({
      settings,
      log: app.log,
      env: process.env,
      // a web process of a fleet runs no command, so it needs no sandbox (nor bubblewrap installed)
      ...(web ? { sandbox: { run: async () => refused('This process (ROLE=web) runs no commands: the fleet\'s workers do.') } } : {}),
      ...(options.createAgent ? { createAgent: options.createAgent } : {}),
      ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
      appSlug: async () => {
        const octokit = await app.auth();
        return (await octokit.rest.apps.getAuthenticated()).data?.slug ?? 'agent-mapreduce';
      },
    });
    try {
      probotOptions?.addHandler(profileRoutes(settings, services.profile));
    } catch {
      app.log.debug('no HTTP server: /metrics and the dashboard are not served'); // a Probot without a server, as in unit tests
    }
    // in a fleet, every process's dashboard shows what all of them record
    if (settings.redisUrl && services.redis) {
      services.profileSharing = shareProfile(settings.redisUrl, services.redis, services.profile, app.log);
      services.profileSharing.catch((err: unknown) => app.log.error({ err }, 'the fleet\'s profile is not shared: this dashboard shows this process only'));
    }
    // a fleet's web process passes the deliveries a handler acts on to the workers, and does nothing else
    if (web) {
      forwardEvents(app, settings, services.redis!, handledBy(services));
      options.onServices?.(services);
      return;
    }
    // a fleet shares its reduce passes through Redis; without REDIS_URL nothing of it is loaded
    if (settings.redisUrl) {
      const fleet = startFleet(app, services, settings.redisUrl);
      fleet.catch((err: unknown) => app.log.error({ err }, 'the fleet\'s reduce queue did not start: reduce passes wait for it'));
      services.reduce.useFleet(fleet);
    }
    if (settings.role === 'worker') services.fleetEvents = receiveEvents(app, settings, services);
    // Probot's own handler type is the same context under another name
    registerHandlers((events, handler) => app.on(events, handler as never), services);
    const background = options.background === false ? undefined : startBackground(app, services, app.log);
    options.onServices?.(services, background);
  };
}

/**
 * Registers each handler for the events it acts on; `acts`, where given, tells on sight of the payload
 * alone the deliveries of those events that the handler ignores (its own first check). One list, so
 * that a fleet's web process passes on exactly the deliveries its workers' handlers act on.
 */
function registerHandlers(on: On, services: Services): void {
  on('issue_comment.created', onIssueComment(services), (payload) => personsCommand(payload) !== null);
  on('issues.labeled', onIssueLabeled(services), (payload) => labelByPerson(payload) !== undefined);
  on(['issues.unlabeled', 'issues.closed'], onIssueUnlabeledOrClosed(services), mayStopJob);
  on('pull_request_review.submitted', onPullRequestReview(services));
  on(['pull_request_review.submitted', 'pull_request.closed'], onPullRequestActivity(services));
  on('push', onPush(services));
  on(['pull_request_review.submitted', 'pull_request.closed', 'issues.closed', 'issue_dependencies'], onHoldReleased(services));
  on(['pull_request_review.submitted', 'pull_request.closed', 'push', 'check_suite.completed', 'check_run.completed', 'status'], onReduceTrigger(services));
  on(['check_run.completed', 'check_suite.completed', 'status', 'pull_request.opened', 'pull_request.reopened'], onCiResult(services));
}

/** The names `app.on` takes: an event, or an event and its action. */
type EventName = Extract<Parameters<Probot['on']>[0], string>;
type On = <E extends EventName>(
  events: E | E[], handler: (context: Context<E>) => Promise<void>, acts?: (payload: Context<E>['payload']) => boolean,
) => void;

/**
 * Whether some handler acts on a delivery: its event (`name`, or `name.action`) is one a handler is
 * registered for, and that handler does not ignore it on sight. Most of what GitHub sends an app
 * (issues opened or edited, comments that are no command, this app's own labels and comments coming
 * back) is ignored, and a fleet's workers need not take it off the queue to find that out.
 */
function handledBy(services: Services): (name: string, payload: unknown) => boolean {
  const registered: Array<{ events: string[]; acts: ((payload: never) => boolean) | undefined }> = [];
  registerHandlers((events, _handler, acts) => void registered.push({ events: [events].flat(), acts: acts as ((payload: never) => boolean) | undefined }), services);
  return (name, payload) => {
    const action = (payload as { action?: unknown } | null)?.action;
    const full = typeof action === 'string' ? `${name}.${action}` : name;
    return registered.some(({ events, acts }) => events.some((e) => e === name || e === full) && (acts === undefined || actsOn(acts, payload)));
  };
}

/** A payload the check cannot read (not GitHub's shape) is passed on: the worker's handler gives the answer. */
function actsOn(acts: (payload: never) => boolean, payload: unknown): boolean {
  try {
    return acts(payload as never);
  } catch {
    return true;
  }
}

/**
 * ROLE=web: each verified delivery that some handler acts on goes to the fleet's queue, a repository's
 * to the worker that holds its clone (jobs/fleet-workers.ts); GitHub is answered once Redis has it
 * (else 500, and GitHub may redeliver). The rest is answered at once and goes nowhere.
 */
function forwardEvents(app: Probot, settings: Settings, redis: Promise<RedisClient>, handled: (name: string, payload: unknown) => boolean): void {
  const events = FleetEvents.sender(settings.redisUrl!, app.log);
  events.catch((err: unknown) => app.log.error({ err }, 'the fleet\'s event queue did not start: deliveries are refused until it does'));
  const workers = redis.then((client) => new FleetWorkers(client, settings.fleetLockMs));
  app.onAny(async (context) => {
    if (!handled(context.name, context.payload)) {
      app.log.debug({ delivery: context.id, event: context.name }, 'delivery not passed on: no handler acts on it');
      return;
    }
    const repository = (context.payload as { repository?: { full_name?: unknown } }).repository?.full_name;
    // Redis not answering the routing: whichever worker takes it first
    const worker = typeof repository === 'string' ? await (await workers).route(repository, settings.maxAgents).catch(() => undefined) : undefined;
    await (await events).send({ id: context.id, name: context.name, payload: context.payload }, worker);
    app.log.debug({ delivery: context.id, event: context.name, worker }, 'delivery passed to the fleet');
  });
}

/**
 * ROLE=worker: deliveries the web processes queued, for any worker or routed to this one, reach the
 * same handlers as those GitHub sends here; the fleet's routing is told what this worker holds.
 */
function receiveEvents(app: Probot, settings: Settings, services: Services): Promise<FleetEvents> {
  const { scheduler } = services;
  const name = fleetWorkerName(settings.workDir);
  const events = services.redis!.then((client) => {
    const presence = new FleetWorkers(client, settings.fleetLockMs).live(
      name, () => scheduler.queuedKeys().length + scheduler.runningKeys().length,
      // this worker's share of the fleet's cap is what it gets ready ahead (jobs/scheduler.ts)
      (workers) => scheduler.setReadyAhead(Math.ceil(settings.maxAgents / workers)),
    );
    scheduler.onEvent(() => presence.changed());
    return FleetEvents.receiver(settings.redisUrl!, name, (event) => app.receive(event as Parameters<Probot['receive']>[0]), presence, app.log);
  });
  events.catch((err: unknown) => app.log.error({ err }, 'the fleet\'s event queue did not start: this worker takes no deliveries'));
  return events;
}

const app: ApplicationFunction = (probot, options) => createApp(loadSettings(process.env))(probot, options);
export default app;
