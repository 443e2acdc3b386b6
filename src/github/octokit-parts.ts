import { Octokit } from '@octokit/rest';
import type { ProbotOctokit } from 'probot';
import { issueOfBranch } from '../names.js';
import type { RequestObserver } from './observe-requests.js';
import type { WriteObserver } from './pace-writes.js';
import type { WriteAllowance } from './write-budget.js';
import type { ReadCache } from './conditional-reads.js';
import type { GitHub, Permission, PullInfo, Review } from './port.js';
import { UnreadableConfigError } from './port.js';
import { configPluginPrefix, silent, status, toComment, toIssue, toPull, unreadable, type RestIssue, type RestPull } from './rest-shapes.js';

export interface GitHubTarget {
  owner: string;
  repo: string;
  /** The installation the octokit acts for: git tokens are made for it. */
  installationId: number;
  /** Told of every API request and its answer (the profile counts them). */
  onRequest?: RequestObserver;
  /** The installation's write budget, which every notifying write waits in; and who hears of them. */
  writes?: { budget: WriteAllowance; observer?: WriteObserver };
  /** The answers kept for conditional reads (ETags). */
  reads?: ReadCache;
}

/** What the adapter's parts share: the octokit, the repository, and the open PRs' listing. */
export interface AdapterContext {
  octokit: ProbotOctokit;
  where: { owner: string; repo: string };
  repo: string;
  target: GitHubTarget;
  listOpenPulls(): Promise<PullInfo[]>;
}

/** The repository: its config file, people's permissions and ids, and git tokens. */
export function repositoryPart(ctx: AdapterContext): Pick<GitHub, 'readConfigLayers' | 'getPermission' | 'getUserId' | 'withGitToken' | 'branchHeads'> {
  const { octokit, where, repo, target } = ctx;
  return {
    async readConfigLayers(path) {
      try {
        const { files } = await octokit.config.get({ ...where, path });
        // the plugin lists the repository's own file first, then what it `_extends`
        return files.map((f) => f.config).filter((c): c is Record<string, unknown> => c !== null).reverse();
      } catch (error) {
        if (error instanceof Error && error.message.startsWith(configPluginPrefix)) {
          const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
          throw new UnreadableConfigError(error.message.slice(configPluginPrefix.length).trim() + cause);
        }
        throw error;
      }
    },

    async getPermission(login) {
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...where, username: login });
        return (['admin', 'write', 'read'].includes(data.permission) ? data.permission : 'none') as Permission;
      } catch (error) {
        if (status(error) === 404) return 'none';
        throw error;
      }
    },

    async withGitToken(access, use) {
      // a new token each time, narrowed to this repository and step: a leaked one opens nothing else, and not for long
      // (asked for through the API, which signs it as the app, so that a GitHub Enterprise Server's address is kept)
      const { data: { token } } = await octokit.rest.apps.createInstallationAccessToken({
        installation_id: target.installationId, repositories: [repo], permissions: { contents: access },
      });
      try {
        return await use(token);
      } finally {
        // with the token itself: the app's own authentication would revoke a token of its choosing
        await new Octokit({ auth: token, baseUrl: octokit.request.endpoint.DEFAULTS.baseUrl, log: silent })
          .request('DELETE /installation/token')
          .catch((error: unknown) => octokit.log.warn(`git token not revoked (${error instanceof Error ? error.message : String(error)}); it expires within the hour`));
      }
    },

    async branchHeads() {
      const { data } = await octokit.rest.git.listMatchingRefs({ ...where, ref: 'heads/' });
      return new Map(data.filter((r) => r.ref.startsWith('refs/heads/')).map((r) => [r.ref.slice('refs/heads/'.length), r.object.sha]));
    },

    async getUserId(login) {
      const { data } = await octokit.rest.users.getByUsername({ username: login });
      return data.id;
    },
  };
}

/** Issues: reading them, their labels and comments. */
export function issuesPart(ctx: AdapterContext): Pick<GitHub, 'getIssue' | 'listOpenIssuesWithLabel' | 'findLabelEvent' | 'listBlockers' | 'addLabels' | 'removeLabel' | 'listComments' | 'createComment' | 'updateComment'> {
  const { octokit, where } = ctx;
  return {
    async getIssue(issueNumber) {
      const { data } = await octokit.rest.issues.get({ ...where, issue_number: issueNumber });
      return toIssue(data as RestIssue);
    },

    async listOpenIssuesWithLabel(label) {
      const issues = await octokit.paginate(octokit.rest.issues.listForRepo, { ...where, labels: label, state: 'open', per_page: 100 });
      return issues.map((i) => toIssue(i as RestIssue)).filter((i) => !i.isPullRequest);
    },

    async findLabelEvent(issueNumber, label) {
      const events = await octokit.paginate(octokit.rest.issues.listEvents, { ...where, issue_number: issueNumber, per_page: 100 });
      // a bot's label (this app's own, on `/agent retry`) credits nobody: the person before it counts
      const labelled = events.filter((e) => e.event === 'labeled' && (e as { label?: { name?: string } }).label?.name === label &&
        e.actor && e.actor.type !== 'Bot');
      const last = labelled.at(-1);
      return last?.actor ? { actor: { login: last.actor.login, id: last.actor.id }, at: Date.parse(last.created_at) } : null;
    },

    async listBlockers(issueNumber) {
      try {
        const blockers = await octokit.paginate(octokit.rest.issues.listDependenciesBlockedBy, { ...where, issue_number: issueNumber, per_page: 100 });
        return blockers.map((b) => ({ number: b.number, open: b.state === 'open' }));
      } catch (error) {
        // a GitHub without issue dependencies (older Enterprise Server), or an installation that has not
        // accepted the permission for them yet: no relationships to read
        if (unreadable(error)) return [];
        throw error;
      }
    },

    async addLabels(issueNumber, labels) {
      await octokit.rest.issues.addLabels({ ...where, issue_number: issueNumber, labels });
    },

    async removeLabel(issueNumber, label) {
      try {
        await octokit.rest.issues.removeLabel({ ...where, issue_number: issueNumber, name: label });
      } catch (error) {
        if (status(error) !== 404) throw error;
      }
    },

    async listComments(issueNumber) {
      const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...where, issue_number: issueNumber, per_page: 100 });
      return comments.map(toComment);
    },

    async createComment(issueNumber, body) {
      const { data } = await octokit.rest.issues.createComment({ ...where, issue_number: issueNumber, body });
      return toComment(data);
    },

    async updateComment(commentId, body) {
      await octokit.rest.issues.updateComment({ ...where, comment_id: commentId, body });
    },
  };
}

/** Pull requests: reading, finding the agent's, opening and updating them. */
export function pullsPart(ctx: AdapterContext): Pick<GitHub, 'getPull' | 'listOpenPulls' | 'findOpenAgentPull' | 'createPull' | 'updatePull'> {
  const { octokit, where, listOpenPulls } = ctx;
  return {
    async getPull(pullNumber) {
      const { data } = await octokit.rest.pulls.get({ ...where, pull_number: pullNumber });
      return { ...toPull(data as RestPull), open: data.state === 'open' };
    },

    listOpenPulls,

    async findOpenAgentPull(issueNumber) {
      const pulls = await listOpenPulls();
      return pulls.find((p) => !p.fromFork && issueOfBranch(p.headRef) === issueNumber) ?? null;
    },

    async createPull(pull) {
      try {
        const { data } = await octokit.rest.pulls.create({ ...where, ...pull, maintainer_can_modify: false });
        return toPull(data as RestPull);
      } catch (error) {
        const message = JSON.stringify((error as { response?: { data?: unknown } }).response?.data ?? '');
        if (status(error) === 422 && message.includes('already exists')) return 'exists';
        throw error;
      }
    },

    async updatePull(pullNumber, changes) {
      await octokit.rest.pulls.update({ ...where, pull_number: pullNumber, ...changes });
    },
  };
}

/** What a merge decision reads: reviews, their inline comments, and the checks. */
export function reviewsPart(ctx: AdapterContext): Pick<GitHub, 'listReviewComments' | 'listReviews' | 'getChecks'> {
  const { octokit, where } = ctx;
  return {
    async listReviewComments(pullNumber, reviewId) {
      const comments = await octokit.paginate(octokit.rest.pulls.listCommentsForReview, {
        ...where, pull_number: pullNumber, review_id: reviewId, per_page: 100,
      });
      return comments.map((c) => ({
        path: c.path,
        line: (c as { line?: number | null }).line ?? c.original_line ?? null,
        diffHunk: c.diff_hunk,
        body: c.body,
        author: c.user?.login ?? '',
      }));
    },

    async listReviews(pullNumber) {
      const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, { ...where, pull_number: pullNumber, per_page: 100 });
      return reviews.map((r) => ({
        id: r.id,
        author: r.user?.login ?? '',
        state: r.state.toUpperCase() as Review['state'],
        commitId: r.commit_id ?? '',
        submittedAt: r.submitted_at ? Date.parse(r.submitted_at) : 0,
      }));
    },

    async getChecks(sha) {
      const [{ data: checks }, { data: combined }] = await Promise.all([
        octokit.rest.checks.listForRef({ ...where, ref: sha, per_page: 100 }),
        octokit.rest.repos.getCombinedStatusForRef({ ...where, ref: sha }),
      ]);
      const runs = checks.check_runs.filter((r) => !r.name.startsWith('agent-mapreduce'));
      const states = runs.map((r) => ({
        name: r.name,
        state: r.status !== 'completed' ? 'pending' : ['success', 'neutral', 'skipped'].includes(r.conclusion ?? '') ? 'success' : 'failure',
      }));
      for (const s of combined.statuses ?? []) {
        states.push({ name: s.context, state: s.state === 'success' ? 'success' : s.state === 'pending' ? 'pending' : 'failure' });
      }
      const failed = states.filter((s) => s.state === 'failure').map((s) => s.name);
      const state = states.length === 0 ? 'none' : failed.length > 0 ? 'failure' : states.some((s) => s.state === 'pending') ? 'pending' : 'success';
      return { state, failed };
    },
  };
}

const ENQUEUE = `mutation($id: ID!, $oid: GitObjectID!, $jump: Boolean) {
  enqueuePullRequest(input: { pullRequestId: $id, expectedHeadOid: $oid, jump: $jump }) { mergeQueueEntry { position } }
}`;

/** Merging (or queueing for GitHub's merge queue), deleting the merged branch, and check runs. */
export function mergingPart(ctx: AdapterContext): Pick<GitHub, 'mergePull' | 'deleteBranch' | 'createCheckRun' | 'enqueuePull'> {
  const { octokit, where } = ctx;
  return {
    async mergePull(pullNumber, { sha, method }) {
      try {
        const { data } = await octokit.rest.pulls.merge({ ...where, pull_number: pullNumber, sha, merge_method: method });
        return { kind: 'merged', sha: data.sha };
      } catch (error) {
        const message = (error as { message?: string }).message ?? String(error);
        if (status(error) === 409) return { kind: 'moved', message };
        if (status(error) === 405) {
          // a retried merge whose first answer was lost is refused as already merged: it did merge
          const { data } = await octokit.rest.pulls.get({ ...where, pull_number: pullNumber });
          if (data.merged && data.merge_commit_sha) return { kind: 'merged', sha: data.merge_commit_sha };
          return { kind: 'not-mergeable', message };
        }
        throw error;
      }
    },

    async deleteBranch(branch) {
      try {
        await octokit.rest.git.deleteRef({ ...where, ref: `heads/${branch}` });
      } catch (error) {
        if (status(error) !== 404 && status(error) !== 422) throw error;
      }
    },

    async enqueuePull(pullNumber, { headSha, jump }) {
      const { data: pull } = await octokit.rest.pulls.get({ ...where, pull_number: pullNumber });
      try {
        const result = await octokit.graphql<{ enqueuePullRequest: { mergeQueueEntry: { position: number } | null } | null }>(ENQUEUE, {
          id: pull.node_id, oid: headSha, jump,
        });
        return { kind: 'queued', position: result.enqueuePullRequest?.mergeQueueEntry?.position ?? null };
      } catch (error) {
        // GraphQL answers a refusal (a moved head, a PR not mergeable) as errors in a 200
        const errors = (error as { errors?: Array<{ message: string }> }).errors;
        if (errors) return { kind: 'refused', message: errors.map((e) => e.message).join('; ') };
        throw error;
      }
    },

    async createCheckRun(run) {
      await octokit.rest.checks.create({
        ...where,
        name: run.name,
        head_sha: run.headSha,
        status: run.status,
        ...(run.conclusion ? { conclusion: run.conclusion } : {}),
        ...(run.detailsUrl ? { details_url: run.detailsUrl } : {}),
        output: { title: run.title, summary: run.summary, ...(run.text ? { text: run.text } : {}) },
      });
    },
  };
}
