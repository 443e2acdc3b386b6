export interface ReviewSnapshot {
  id: number;
  author: string;
  /** As the REST API says it (webhooks use lower case). */
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  commitId: string;
  submittedAt: number;
  authorIsWriter: boolean;
}

export interface PullSnapshot {
  number: number;
  open: boolean;
  draft: boolean;
  fromFork: boolean;
  baseRef: string;
  /** The head branch is an agent branch (`agent/issue-…`). */
  agentBranch: boolean;
  headSha: string;
  labels: string[];
  reviews: ReviewSnapshot[];
  /** `git patch-id --stable` of each commit's diff against its merge base with the base, by commit: the head's and the approved ones'. */
  patchIds: Record<string, string>;
  /** Combined state of the head's check runs and commit statuses. */
  checks: 'success' | 'pending' | 'failure' | 'none';
}

export interface ReducePolicy {
  baseRef: string;
  approvals: number;
  requireChecks: boolean;
  holdLabel: string;
}

export type Eligibility =
  | { eligible: true; approvedAt: number }
  | { eligible: false; kind: 'not-candidate' | 'hold' | 'needs-approval' | 'changes-requested' | 'stale-approval' | 'checks-pending' | 'checks-failed'; reason: string };

/**
 * Whether a PR may merge now (DESIGN §5.2), as a pure decision over a snapshot. Only writers'
 * reviews count, and only each writer's latest approving or change-requesting one (a later comment
 * does not undo an approval; a dismissal does). An approval covers the head when it was given on
 * the head, or on a commit whose diff has the same patch-id: a clean bot rebase keeps an approval,
 * a new commit from anyone does not.
 */
export function decideEligibility(pull: PullSnapshot, policy: ReducePolicy): Eligibility {
  if (!pull.open || pull.draft || pull.fromFork || !pull.agentBranch || pull.baseRef !== policy.baseRef) {
    return { eligible: false, kind: 'not-candidate', reason: 'not an open, ready agent PR into this base from this repository' };
  }
  if (pull.labels.includes(policy.holdLabel)) return { eligible: false, kind: 'hold', reason: `on hold (\`${policy.holdLabel}\`)` };

  const latest = new Map<string, ReviewSnapshot>();
  for (const review of [...pull.reviews].sort((a, b) => a.submittedAt - b.submittedAt)) {
    if (!review.authorIsWriter) continue;
    if (review.state === 'APPROVED' || review.state === 'CHANGES_REQUESTED' || review.state === 'DISMISSED') latest.set(review.author, review);
  }
  const decisive = [...latest.values()];
  const blocking = decisive.filter((r) => r.state === 'CHANGES_REQUESTED');
  if (blocking.length > 0) {
    return { eligible: false, kind: 'changes-requested', reason: `changes requested by ${blocking.map((r) => `@${r.author}`).join(', ')}` };
  }
  const approvals = decisive.filter((r) => r.state === 'APPROVED');
  const headPatch = pull.patchIds[pull.headSha];
  const covering = approvals.filter((r) => r.commitId === pull.headSha || (headPatch !== undefined && pull.patchIds[r.commitId] === headPatch));
  if (covering.length < policy.approvals) {
    const stale = approvals.length >= policy.approvals;
    return stale
      ? { eligible: false, kind: 'stale-approval', reason: 'the approval was for earlier code: the head changed since, so it needs a fresh approval' }
      : { eligible: false, kind: 'needs-approval', reason: `needs ${policy.approvals} approval${policy.approvals === 1 ? '' : 's'} from writers (has ${approvals.length})` };
  }
  if (policy.requireChecks && pull.checks === 'failure') return { eligible: false, kind: 'checks-failed', reason: 'a required check failed on the head' };
  if (policy.requireChecks && pull.checks === 'pending') return { eligible: false, kind: 'checks-pending', reason: 'waiting for the head’s checks' };
  const approvedAt = Math.max(0, ...covering.map((r) => r.submittedAt).sort((a, b) => a - b).slice(0, Math.max(1, policy.approvals)));
  return { eligible: true, approvedAt };
}
