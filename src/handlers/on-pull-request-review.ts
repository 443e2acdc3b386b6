import type { Context } from 'probot';
import { reportConfigProblems } from '../config/report-config-problems.js';
import type { ConfigCache } from '../config/config-cache.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { RevisionService } from '../revise/revision-service.js';
import { repositoryFromPayload, gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';
import { issueOfBranch } from '../names.js';

/**
 * A review that requests changes on an agent PR, from a writer, is one revision request: its body
 * and every inline comment of that review, in one run.
 */
export interface ReviewDeps extends RequestCounting {
  configs: ConfigCache;
  comments: MarkedComments;
  permissions: PermissionCache;
  revisions: RevisionService;
}

export function onPullRequestReview(services: ReviewDeps) {
  return async (context: Context<'pull_request_review.submitted'>): Promise<void> => {
    const { review, pull_request: pull, repository, sender } = context.payload;
    if (review.state !== 'changes_requested' || sender.type === 'Bot' || review.user?.type === 'Bot') return;
    const issueNumber = issueOfBranch(pull.head.ref);
    if (issueNumber === undefined || pull.head.repo?.full_name !== repository.full_name || pull.state !== 'open') return;

    const { owner, repo } = context.repo();
    const github = gitHubOf(services, context);
    const log = context.log.child({ repo: `${owner}/${repo}`, pr: pull.number, issue: issueNumber, delivery: context.id });
    const reviewer = review.user ?? sender;
    if (!(await services.permissions.isWriter(github, reviewer.login))) {
      log.info({ reviewer: reviewer.login }, 'review ignored: reviewer is not a writer');
      return;
    }
    const config = await services.configs.get(github);
    if (!config.ok) {
      await reportConfigProblems(github, services.comments, pull.number, config.problems);
      return;
    }
    const comments = await github.listReviewComments(pull.number, review.id);
    services.revisions.request({
      github,
      repository: repositoryFromPayload(repository),
      pullNumber: pull.number,
      issueNumber,
      config: config.config,
      feedback: { id: review.id, author: reviewer.login, authorId: reviewer.id, kind: 'review', text: review.body ?? '', comments },
      log,
    });
  };
}
