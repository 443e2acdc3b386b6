import type { RepoConfig } from '../config/schema.js';
import type { GitHub, PullInfo } from '../github/port.js';
import { HOLD_LABEL, issueOfBranch } from '../names.js';
import type { ReviewState } from '../profile/profile-event.js';
import { failedInTrain } from './blame-train-failure.js';
import { decideEligibility, type PullSnapshot } from './decide-eligibility.js';
import { patchIdAgainstBase } from './patch-id.js';
import { issueRef, type PassPlace, type ReduceDeps, type ReducePass, type ReduceReport } from './reduce-pass.js';

export interface Candidates {
  /** Every open agent PR from this repository into the base. */
  pulls: PullInfo[];
  /** Those approved by writers for the code now on the branch, with checks green where required (`checked`: it has any). */
  eligible: Array<{ pull: PullInfo; approvedAt: number; checked: boolean }>;
  /** The others that are candidates, with what they wait for. */
  waiting: ReduceReport['waiting'];
}

/** Steps 1-2 of a pass: the candidates and which of them may merge now (each PR and its reviews go to the profile). */
export async function readCandidates(deps: ReduceDeps, pass: ReducePass, place: PassPlace, baseSha: string): Promise<Candidates> {
  const { github, baseRef, config } = pass;
  const pulls = (await github.listOpenPulls()).filter((p) => issueOfBranch(p.headRef) !== undefined && !p.fromFork && p.baseRef === baseRef);
  const candidates: Candidates = { pulls, eligible: [], waiting: [] };
  for (const pull of pulls) {
    if (await failedInTrain(deps, pass, pull)) {
      candidates.waiting.push({ number: pull.number, reason: 'failed CI in a merge train; push a fix' });
      continue;
    }
    const pullSnapshot = await snapshot(deps, github, pull, place, baseSha, config);
    const ref = issueRef(github, pull);
    deps.profile.record({ ...ref, type: 'pull', pr: pull.number, url: pull.url, base: pull.baseRef, ...(pull.createdAt ? { openedAt: pull.createdAt } : {}) });
    for (const review of pullSnapshot.reviews) {
      deps.profile.record({ ...ref, type: 'review', pr: pull.number, id: review.id, author: review.author, state: review.state.toLowerCase() as ReviewState, at: review.submittedAt });
    }
    const decision = decideEligibility(pullSnapshot, {
      baseRef, approvals: config.reduce.approvals, requireChecks: config.reduce.requireChecks, holdLabel: HOLD_LABEL,
    });
    if (decision.eligible) candidates.eligible.push({ pull, approvedAt: decision.approvedAt, checked: pullSnapshot.checks !== 'none' });
    else if (decision.kind !== 'not-candidate') candidates.waiting.push({ number: pull.number, reason: decision.reason });
  }
  return candidates;
}

async function snapshot(
  deps: ReduceDeps, github: GitHub, pull: PullInfo, place: PassPlace, baseSha: string, config: RepoConfig,
): Promise<PullSnapshot> {
  const reviews = await github.listReviews(pull.number);
  const writers = new Map<string, boolean>();
  for (const author of new Set(reviews.map((r) => r.author))) writers.set(author, await deps.permissions.isWriter(github, author));
  const patchIds: Record<string, string> = {};
  for (const sha of new Set([pull.headSha, ...reviews.filter((r) => r.state === 'APPROVED').map((r) => r.commitId)])) {
    // an approved commit the clone never saw cannot be compared: that approval does not cover the head
    const id = await patchIdAgainstBase(place.clone, sha, baseSha, place.env).catch(() => null);
    if (id) patchIds[sha] = id;
  }
  return {
    number: pull.number,
    open: true,
    draft: pull.draft,
    fromFork: pull.fromFork,
    baseRef: pull.baseRef,
    agentBranch: issueOfBranch(pull.headRef) !== undefined,
    headSha: pull.headSha,
    labels: pull.labels,
    reviews: reviews.map((r) => ({ ...r, authorIsWriter: writers.get(r.author) ?? false })),
    patchIds,
    checks: config.reduce.requireChecks ? (await github.getChecks(pull.headSha)).state : 'none',
  };
}
