import type { Logger } from '../log.js';
import type { Actor, GitHub, IssueInfo, RepositoryInfo } from '../github/port.js';
import { reportConfigProblems } from '../config/report-config-problems.js';
import type { RepoConfig } from '../config/schema.js';
import { readMarker } from '../github/marked-comment.js';
import { requestIssueRun, type IssueRunDeps } from '../map/request-issue-run.js';
import type { ReduceService } from '../reduce/reduce-service.js';
import type { RevisionService } from '../revise/revision-service.js';
import { describeStatus } from '../status/issue-status.js';
import type { Command } from './parse-command.js';
import { renderHelp } from './render-help.js';
import { VERB_INFO, type Verb } from './verbs.js';
import { HOLD_LABEL, PLAN_KIND, issueOfBranch } from '../names.js';

/** What the commands act through: the map, revision and reduce services and their shared caches. */
export interface CommandDeps extends IssueRunDeps {
  revisions: RevisionService;
  reduce: ReduceService;
}

export interface CommandRequest {
  services: CommandDeps;
  github: GitHub;
  repository: RepositoryInfo;
  issue: IssueInfo;
  author: Actor;
  command: Command;
  /** The comment that holds the command. */
  commentId: number;
  log: Logger;
}

export type CommandOutcome = 'refused' | 'help' | 'config-invalid' | 'done' | 'not-available';

interface Ready extends CommandRequest {
  config: RepoConfig;
  reply(text: string): Promise<unknown>;
}

/**
 * Carries out one comment command:
 * 1. only writers may command the bot;
 * 2. help (and unknown verbs) answer with the command list;
 * 3. the repository's config must be valid for anything else;
 * 4. the verb runs where it applies, or says it is not available (yet, or there).
 */
export async function dispatchCommand(request: CommandRequest): Promise<CommandOutcome> {
  const { services, github, issue, author, command, log } = request;
  const reply = (text: string) => github.createComment(issue.number, `@${author.login} ${text}`);

  if (!(await services.permissions.isWriter(github, author.login))) {
    log.info({ author: author.login }, 'command refused: not a writer');
    await reply('sorry, only people with write access to this repository can command agent-mapreduce.');
    return 'refused';
  }

  const config = await services.configs.get(github);
  if (command.verb === 'help' || command.verb === 'unknown') {
    const unknown = command.verb === 'unknown' && command.word ? `\`${command.word.slice(0, 40)}\` is not a command I know. ` : '';
    await reply(`${unknown}${renderHelp(config.ok ? config.config.label : 'agent')}`);
    return 'help';
  }
  if (!config.ok) {
    await reportConfigProblems(github, services.comments, issue.number, config.problems);
    log.warn({ problems: config.problems }, 'command not run: invalid config');
    return 'config-invalid';
  }

  const ready: Ready = { ...request, config: config.config, reply };
  const handler = (issue.isPullRequest ? onPullRequest : onIssue)[command.verb];
  if (handler) {
    await handler(ready);
    return 'done';
  }
  const info = VERB_INFO[command.verb];
  const here = issue.isPullRequest ? 'PR' : 'issue';
  const applies = info.where === 'anywhere' || info.where === 'issue or PR' || info.where === here;
  await reply(applies
    ? `\`/agent ${command.verb}\` is not available ${info.available ? `on ${here}s ` : ''}yet in this version of agent-mapreduce. ` +
      'Comment `/agent help` for the commands that are.'
    : `\`/agent ${command.verb}\` works on ${info.where === 'PR' ? 'PRs' : 'issues'}, not on ${here}s.`);
  return 'not-available';
}

type VerbHandler = (request: Ready) => Promise<void>;

async function status({ services, github, issue, config, reply }: Ready): Promise<void> {
  const what = issue.isPullRequest ? 'this PR' : 'this issue';
  const live = services.map.state(github.owner, github.repo, issue.number);
  if (live?.state === 'waiting') {
    await reply(`${what} is **waiting** before the queue: ${live.reason}`);
    return;
  }
  if (live?.state === 'queued') {
    await reply(`${what} is **queued**: ${live.place} of ${live.of} in line.`);
    return;
  }
  if (live?.state === 'running') {
    await reply(`${what} is **running** now; the app's dashboard shows its progress.`);
    return;
  }
  const found = await services.statuses.read(github, issue);
  await reply(found
    ? `status of ${what}: ${describeStatus(found)}`
    : `there is no agent run for ${what} yet. Label an issue \`${config.label}\` to start one.`);
}

const onIssue: Partial<Record<Verb, VerbHandler>> = {
  status,

  async stop({ services, github, issue, author, reply }) {
    const result = await services.map.cancel(github, issue.number, `Stopped by @${author.login}.`);
    if (result === 'not-found') await reply('there is nothing queued or running for this issue.');
  },

  async retry(ready) {
    const fresh = await openLabelledIssue(ready, 'retry');
    if (fresh) await requestIssueRun(ready.services, { ...runAsk(ready, fresh), retry: true });
  },

  async plan(ready) {
    const fresh = await openLabelledIssue(ready, 'plan');
    if (fresh) await requestIssueRun(ready.services, { ...runAsk(ready, fresh), retry: false, mode: 'plan' });
  },

  async go(ready) {
    const { services, github, issue, command, reply } = ready;
    const posted = await services.comments.find(github, issue.number, PLAN_KIND);
    const plan = posted ? readMarker(posted.body)?.data.plan : undefined;
    if (typeof plan !== 'string') {
      await reply('there is no plan for this issue yet; comment `/agent plan` first.');
      return;
    }
    const fresh = await openLabelledIssue(ready, 'go');
    if (!fresh) return;
    const guidance = command.text ? `\n\n## Guidance from @${ready.author.login} with \`/agent go\`\n\n${command.text}` : '';
    await requestIssueRun(services, { ...runAsk(ready, fresh), retry: false, mode: 'implement', plan: plan + guidance });
  },
};

/** The issue, re-read, open and carrying the trigger label (added if missing); undefined after saying why not. */
async function openLabelledIssue({ services, github, issue, config, reply }: Ready, verb: string) {
  const live = services.map.state(github.owner, github.repo, issue.number);
  if (live) {
    await reply(`this issue is already ${live.state}; comment \`/agent stop\` first to start over.`);
    return undefined;
  }
  const fresh = await github.getIssue(issue.number);
  if (!fresh.open) {
    await reply(`this issue is closed; reopen it to ${verb}.`);
    return undefined;
  }
  if (!fresh.labels.includes(config.label)) {
    await github.addLabels(issue.number, [config.label]);
    fresh.labels.push(config.label);
  }
  return fresh;
}

function runAsk({ github, repository, author, log }: Ready, issue: IssueInfo) {
  return { github, repository, issue, requester: author, since: Date.now(), log };
}

/** The issue an agent PR works on, or undefined (after saying so) for any other PR. */
async function agentPullIssue({ github, issue, command, reply }: Ready): Promise<{ issueNumber: number; open: boolean } | undefined> {
  const pull = await github.getPull(issue.number);
  const issueNumber = issueOfBranch(pull.headRef);
  if (issueNumber === undefined || pull.fromFork) {
    await reply(`\`/agent ${command.verb}\` works on PRs that agent-mapreduce opened (branches \`agent/issue-…\`); this one is not.`);
    return undefined;
  }
  return { issueNumber, open: pull.open };
}

const onPullRequest: Partial<Record<Verb, VerbHandler>> = {
  status,

  async stop(ready) {
    const target = await agentPullIssue(ready);
    if (!target) return;
    const { services, github, reply } = ready;
    const reason = `Stopped by @${ready.author.login}.`;
    let stopped = services.revisions.stop(github, target.issueNumber, reason) === 'stopped';
    // in a fleet the revision may run in another process: the cancel goes there (its key is the issue's)
    if (!stopped && services.map.inFleet) stopped = (await services.map.cancel(github, target.issueNumber, reason)) !== 'not-found';
    await reply(stopped ? 'stopped.' : 'there is nothing queued or running for this PR.');
  },

  async retry(ready) {
    const target = await agentPullIssue(ready);
    if (!target) return;
    const { services, github, repository, author, reply, log } = ready;
    if (services.map.state(github.owner, github.repo, target.issueNumber)) {
      await reply('its issue already has a job queued or running; comment `/agent stop` first to start over.');
      return;
    }
    const issue = await github.getIssue(target.issueNumber);
    if (!issue.open) {
      await reply(`its issue #${issue.number} is closed; reopen it to retry.`);
      return;
    }
    if (!issue.labels.includes(ready.config.label)) {
      await github.addLabels(issue.number, [ready.config.label]);
      issue.labels.push(ready.config.label);
    }
    // from the base again: the branch is replaced (with a lease) and this PR updated
    await requestIssueRun(services, { github, repository, issue, requester: author, since: Date.now(), retry: true, log });
    await reply(`running issue #${issue.number} again from the base branch; this PR will be updated.`);
  },

  async rebase(ready) {
    const target = await agentPullIssue(ready);
    if (!target) return;
    const { services, github, repository, issue, author, config, reply, log } = ready;
    if (!target.open) {
      await reply('this PR is closed; reopen it to rebase it.');
      return;
    }
    const result = services.revisions.rebase({
      github, repository, pullNumber: issue.number, issueNumber: target.issueNumber, config, requester: author.login, log,
    });
    if (result === 'busy') await reply('a job for this PR is queued or running; comment `/agent rebase` again once it has finished.');
  },

  async hold(ready) {
    const target = await agentPullIssue(ready);
    if (!target) return;
    await ready.github.addLabels(ready.issue.number, [HOLD_LABEL]);
    await ready.reply(`held: this PR is out of the merge order until someone comments \`/agent merge\`.`);
  },

  async merge(ready) {
    const target = await agentPullIssue(ready);
    if (!target) return;
    const { services, github, repository, issue, config, reply, log } = ready;
    await github.removeLabel(issue.number, HOLD_LABEL);
    if (!config.reduce.enabled) {
      await reply('merging is turned off for this repository (`reduce.enabled: false`).');
      return;
    }
    await reply('in the merge order: it merges once it is approved for its current code' +
      `${config.reduce.requireChecks ? ' and its checks are green' : ''}; the \`agent-mapreduce/merge-order\` check shows its place.`);
    void services.reduce.trigger({
      github, repository, baseRef: config.map.baseBranch ?? repository.defaultBranch, config, log,
    });
  },

  async revise(ready) {
    const { services, github, repository, issue, author, command, commentId, config, reply, log } = ready;
    const target = await agentPullIssue(ready);
    if (!target) return;
    if (!target.open) {
      await reply('this PR is closed; reopen it to revise it.');
      return;
    }
    if (!command.text) {
      await reply('say what to change after `/agent revise`, for example `/agent revise use a Map instead of an object`.');
      return;
    }
    services.revisions.request({
      github, repository, pullNumber: issue.number, issueNumber: target.issueNumber, config, log,
      feedback: { id: commentId, author: author.login, authorId: author.id, kind: 'comment', text: command.text, comments: [] },
    });
  },
};
