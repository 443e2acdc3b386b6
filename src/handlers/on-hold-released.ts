import type { Context } from 'probot';
import type { MapService } from '../map/map-service.js';
import { gitHubOf } from './from-payload.js';
import type { RequestCounting } from '../github/octokit-github.js';

type ReleaseEvent = 'pull_request_review.submitted' | 'pull_request.closed' | 'issues.closed' | 'issue_dependencies';

/**
 * What may let a held issue start: a writer's review (the PR no longer awaits a first review), a
 * closed PR (it no longer awaits any), a closed issue or a changed "blocked by" (a blocker gone).
 * The map service looks again at the repository's held issues; with none held this costs nothing.
 */
export function onHoldReleased(services: RequestCounting & { map: MapService }) {
  return async (context: Context<ReleaseEvent>): Promise<void> => {
    const github = gitHubOf(services, context);
    if (context.name === 'pull_request_review') {
      const { review, pull_request: pull } = context.payload as Context<'pull_request_review.submitted'>['payload'];
      await services.map.noteReview(github, pull.number, review.user?.login ?? '');
    }
    const closed = context.name === 'issues' ? (context.payload as Context<'issues.closed'>['payload']).issue.number : undefined;
    await services.map.recheck(github, closed === undefined ? {} : { closed });
  };
}
