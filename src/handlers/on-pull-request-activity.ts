import type { Context } from 'probot';
import type { ProfileRecorder, ReviewState } from '../profile/profile-event.js';
import { issueOfBranch } from '../names.js';

/**
 * Reviews and closes of agent PRs, as they happen, for the profile: the time to first review, the
 * review verdicts on the board, and merges made by people as well as by the reduce pass.
 */
export function onPullRequestActivity(services: { profile: ProfileRecorder }) {
  return async (context: Context<'pull_request_review.submitted' | 'pull_request.closed'>): Promise<void> => {
    const { pull_request: pull, repository } = context.payload;
    const issue = issueOfBranch(pull.head.ref);
    if (issue === undefined || pull.head.repo?.full_name !== repository.full_name) return;
    const ref = { repo: repository.full_name, issue };
    if ('review' in context.payload) {
      const { review } = context.payload;
      if (review.user?.type === 'Bot') return;
      services.profile.record({
        ...ref, type: 'review', pr: pull.number, id: review.id, author: review.user?.login ?? '',
        state: review.state.toLowerCase() as ReviewState, ...(review.submitted_at ? { at: Date.parse(review.submitted_at) } : {}),
      });
      return;
    }
    const merged = 'merged' in pull && pull.merged === true;
    services.profile.record({ ...ref, type: merged ? 'merged' : 'closed', pr: pull.number });
  };
}
