import { describe, expect, it } from '@jest/globals';
import { decideEligibility, type PullSnapshot, type ReviewSnapshot } from '../../src/reduce/decide-eligibility.js';

const policy = { baseRef: 'main', approvals: 1, requireChecks: true, holdLabel: 'agent:hold' };
const review = (overrides: Partial<ReviewSnapshot>): ReviewSnapshot => ({
  id: 1, author: 'maintainer', state: 'APPROVED', commitId: 'head', submittedAt: 100, authorIsWriter: true, ...overrides,
});
const pull = (overrides: Partial<PullSnapshot> = {}): PullSnapshot => ({
  number: 7, open: true, draft: false, fromFork: false, baseRef: 'main', agentBranch: true, headSha: 'head', labels: [],
  reviews: [review({})], patchIds: { head: 'p1' }, checks: 'success', ...overrides,
});

describe('decideEligibility', () => {
  it('lets an approved PR with green checks merge', () => {
    expect(decideEligibility(pull(), policy)).toEqual({ eligible: true, approvedAt: 100 });
  });

  it.each([
    ['a draft', { draft: true }, 'not-candidate'],
    ['a fork', { fromFork: true }, 'not-candidate'],
    ['a human branch', { agentBranch: false }, 'not-candidate'],
    ['another base', { baseRef: 'release' }, 'not-candidate'],
    ['a PR on hold', { labels: ['agent:hold'] }, 'hold'],
    ['no approval', { reviews: [] }, 'needs-approval'],
    ['an approval by a non-writer', { reviews: [review({ authorIsWriter: false })] }, 'needs-approval'],
    ['changes requested by another writer', { reviews: [review({}), review({ author: 'lead', state: 'CHANGES_REQUESTED' })] }, 'changes-requested'],
    ['a dismissed approval', { reviews: [review({}), review({ state: 'DISMISSED', submittedAt: 200 })] }, 'needs-approval'],
    ['pending checks', { checks: 'pending' as const }, 'checks-pending'],
    ['a failed check', { checks: 'failure' as const }, 'checks-failed'],
  ])('refuses %s', (_name, overrides, kind) => {
    expect(decideEligibility(pull(overrides), policy)).toMatchObject({ eligible: false, kind });
  });

  it('keeps an approval through a later comment by the same writer', () => {
    expect(decideEligibility(pull({ reviews: [review({}), review({ state: 'COMMENTED', submittedAt: 300 })] }), policy).eligible).toBe(true);
  });

  it('keeps an approval across a clean bot rebase (same patch-id), not across a new commit', () => {
    const rebased = pull({ headSha: 'rebased', reviews: [review({ commitId: 'old' })], patchIds: { rebased: 'p1', old: 'p1' } });
    expect(decideEligibility(rebased, policy)).toEqual({ eligible: true, approvedAt: 100 });
    const newCommit = pull({ headSha: 'new', reviews: [review({ commitId: 'old' })], patchIds: { new: 'p2', old: 'p1' } });
    expect(decideEligibility(newCommit, policy)).toMatchObject({ eligible: false, kind: 'stale-approval' });
  });

  it('needs as many writers as the policy asks, and does not wait for checks when they are not required', () => {
    const two = { ...policy, approvals: 2, requireChecks: false };
    expect(decideEligibility(pull({ checks: 'pending' }), two)).toMatchObject({ eligible: false, kind: 'needs-approval', reason: 'needs 2 approvals from writers (has 1)' });
    expect(decideEligibility(pull({ checks: 'pending', reviews: [review({}), review({ author: 'lead', submittedAt: 150 })] }), two))
      .toEqual({ eligible: true, approvedAt: 150 });
  });
});
