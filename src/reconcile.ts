import type { Probot } from 'probot';
import { countedAndPaced, createOctokitGitHub, type RequestCounting } from './github/octokit-github.js';
import type { GitHub, IssueInfo, RepositoryInfo } from './github/port.js';
import type { Logger } from './log.js';
import type { ProfileRecorder } from './profile/profile-event.js';
import type { ReduceService } from './reduce/reduce-service.js';
import { FINAL_STATES } from './status/issue-status.js';
import { requestIssueRun, type IssueRunDeps } from './map/request-issue-run.js';
import { FAILED_LABEL, WORKING_LABEL, issueOfBranch } from './names.js';
import { issueKey } from './jobs/job-key.js';

/** What a reconcile pass reads and acts through. */
export interface ReconcileDeps extends IssueRunDeps, RequestCounting {
  profile: ProfileRecorder & RequestCounting['profile'];
  reduce: ReduceService;
  /** In a fleet: which issues another process runs or has queued, and when each claim lapses unless renewed. */
  fleetClaims?: Promise<{ held(keys: string[]): Promise<Map<string, number>> }> | undefined;
}

export interface ReconcileReport {
  queued: number[];
  cancelled: number[];
}

/**
 * Rebuilds one repository's work from GitHub, so that lost webhooks and restarts cost at most one
 * interval (DESIGN §1):
 * 1. jobs whose issue closed or lost the label are cancelled;
 * 2. labelled open issues with no job (here, or in another process of a fleet), no open agent PR,
 *    no `agent:failed` label and no final state (in their status comment, or their `agent:pr-opened`
 *    label) are queued, credited to whoever added the label; one whose agent PR is open but which
 *    still shows `agent:working` (a process stopped before saying so) is shown as `agent:pr-opened`.
 */
export async function reconcileRepository(
  services: ReconcileDeps,
  github: GitHub,
  repository: RepositoryInfo,
  log: Logger,
  options: { followUp?: boolean } = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = { queued: [], cancelled: [] };
  const config = await services.configs.get(github);
  if (!config.ok) {
    log.warn({ problems: config.problems }, 'reconcile skipped: invalid config');
    return report;
  }
  const { label } = config.config;
  // the jobs as they were before listing: a job queued while the listing runs is not judged by it
  const activeBefore = services.map.keysOf(github.owner, github.repo);
  const labelled = await github.listOpenIssuesWithLabel(label);
  for (const issue of labelled) {
    services.profile.record({
      repo: `${github.owner}/${github.repo}`, issue: issue.number, type: 'seen', title: issue.title, failed: issue.labels.includes(FAILED_LABEL),
    });
  }
  const wanted = new Set(labelled.map((i) => i.number));

  for (const key of activeBefore) {
    const issueNumber = Number(key.slice(key.lastIndexOf('#') + 1));
    if (wanted.has(issueNumber)) continue;
    const now = await github.getIssue(issueNumber);
    if (now.open && now.labels.includes(label)) continue;
    await services.map.cancel(github, issueNumber, `The issue is closed or no longer labelled \`${label}\`.`);
    report.cancelled.push(issueNumber);
  }
  // a held issue's reason may have gone with a webhook this process never got
  await services.map.recheck(github, { config: config.config });
  const active = new Set(services.map.keysOf(github.owner, github.repo));
  const keyOf = (issue: IssueInfo) => issueKey(github.owner, github.repo, issue.number);
  const unseen = labelled.filter((i) => !active.has(keyOf(i)) && !i.labels.includes(FAILED_LABEL));
  // in a fleet, an issue another process runs or has queued is that process's: a copy here would only
  // wait for it, and show the issue as queued meanwhile
  const elsewhere = services.fleetClaims && unseen.length > 0 ? await (await services.fleetClaims).held(unseen.map(keyOf)) : new Map<string, number>();
  if (elsewhere.size > 0 && !options.followUp) followUpOnLapse(services, github, repository, elsewhere, log);
  const candidates = unseen.filter((i) => !elsewhere.has(keyOf(i)));
  if (candidates.length === 0) return report;

  // a fork's branch may carry an agent branch's name: it is never the agent's PR
  const withPull = new Map((await github.listOpenPulls()).filter((p) => !p.fromFork).map((p) => [issueOfBranch(p.headRef), p.number] as const));
  for (const issue of candidates) {
    const pull = withPull.get(issue.number);
    if (pull !== undefined) {
      // a process that stopped between opening the PR and saying so left the issue looking taken
      if (issue.labels.includes(WORKING_LABEL)) await services.statuses.show(github, issue.number, { status: { state: 'pr-open', pr: pull } }, config.config.map.statusComment);
      continue;
    }
    const previous = await services.statuses.read(github, issue);
    if (previous && FINAL_STATES.has(previous.state)) continue;
    const answer = await requeue(services, github, repository, issue, label, log.child({ issue: issue.number }))
      .catch((err: unknown) => log.warn({ err, issue: issue.number }, 'issue not requeued; the next pass tries again'));
    if (answer === 'queued' || answer === 'started') report.queued.push(issue.number);
  }
  return report;
}

/**
 * A claim seen (a lock, or an entry in the fleet's line) may be a dead process's (just killed and
 * restarted, say): it lapses unless renewed. Once the last of them could have lapsed, if any did, the
 * repository is reconciled again (once), so that its issues are asked for then rather than a whole
 * interval later. A claim still held then was renewed: its process lives and has the issue.
 */
function followUpOnLapse(services: ReconcileDeps, github: GitHub, repository: RepositoryInfo, held: Map<string, number>, log: Logger): void {
  const timer = setTimeout(() => {
    void (async () => {
      const still = await (await services.fleetClaims!).held([...held.keys()]);
      if (still.size === held.size) return;
      const report = await reconcileRepository(services, github, repository, log, { followUp: true });
      log.info({ ...report, lapsed: [...held.keys()].filter((k) => !still.has(k)) }, 'reconciled after locks lapsed');
    })().catch((err: unknown) => log.warn({ err }, 'reconcile after locks lapsed failed; the next pass tries again'));
  }, Math.max(...held.values()) + LAPSE_MARGIN_MS);
  timer.unref();
}

/** How long after a lock could have lapsed it is looked at again: its holder's renewal may be a moment late. */
const LAPSE_MARGIN_MS = 1_000;

/** Queues the issue again, credited to whoever added the label; a label from someone without write access was answered when it came. */
async function requeue(services: ReconcileDeps, github: GitHub, repository: RepositoryInfo, issue: IssueInfo, label: string, log: Logger) {
  const labelEvent = await github.findLabelEvent(issue.number, label);
  if (!labelEvent || !(await services.permissions.isWriter(github, labelEvent.actor.login))) return undefined;
  return requestIssueRun(services, { github, repository, issue, requester: labelEvent.actor, since: labelEvent.at, retry: false, log });
}

/** Reconciles every repository of every installation; one repository's failure does not stop the rest. */
export async function reconcileAll(probot: Probot, services: ReconcileDeps, log: Logger): Promise<void> {
  const app = await probot.auth();
  const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
  for (const installation of installations) {
    try {
      const octokit = await probot.auth(installation.id);
      const repositories = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
      for (const repository of repositories) {
        const repoLog = log.child({ repo: repository.full_name });
        try {
          const github = createOctokitGitHub(octokit, {
            owner: repository.owner.login, repo: repository.name, installationId: installation.id, ...countedAndPaced(services, installation.id),
          });
          const info = { defaultBranch: repository.default_branch, cloneUrl: repository.clone_url };
          const report = await reconcileRepository(services, github, info, repoLog);
          // a pass that changed nothing is said only at debug level: it happens every interval
          if (report.queued.length + report.cancelled.length > 0) repoLog.info(report, 'reconciled');
          else repoLog.debug(report, 'reconciled');
          const config = await services.configs.get(github);
          if (config.ok && config.config.reduce.enabled) {
            await services.reduce.trigger({
              github, repository: info, baseRef: config.config.map.baseBranch ?? info.defaultBranch, config: config.config, log: repoLog,
            });
          }
        } catch (err) {
          repoLog.error({ err }, 'reconcile failed for repository');
        }
      }
    } catch (err) {
      log.error({ err, installation: installation.id }, 'reconcile failed for installation');
    }
  }
}
