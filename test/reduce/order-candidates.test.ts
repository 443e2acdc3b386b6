import { describe, expect, it } from '@jest/globals';
import { orderCandidates } from '../../src/reduce/order-candidates.js';

describe('orderCandidates', () => {
  it('merges the PRs that conflict with nobody first, and a conflicting one waits for the one ahead', () => {
    const order = orderCandidates([
      { number: 1, priority: false, approvedAt: 10 }, // A
      { number: 2, priority: false, approvedAt: 40 }, // B
      { number: 3, priority: false, approvedAt: 20 }, // C
      { number: 4, priority: false, approvedAt: 30 }, // D
    ], [{ a: 1, b: 3 }]);

    expect(order).toEqual([
      { number: 4, place: 1, waitsFor: [] },
      { number: 2, place: 2, waitsFor: [] },
      { number: 1, place: 3, waitsFor: [] },
      { number: 3, place: 4, waitsFor: [1] },
    ]);
  });

  it('puts priority-labelled PRs first whatever they conflict with', () => {
    const order = orderCandidates([
      { number: 1, priority: false, approvedAt: 1 },
      { number: 2, priority: true, approvedAt: 9 },
      { number: 3, priority: false, approvedAt: 2 },
    ], [{ a: 2, b: 3 }, { a: 2, b: 1 }]);

    expect(order.map((p) => [p.number, p.waitsFor])).toEqual([[2, []], [1, [2]], [3, [2]]]);
  });

  it('breaks ties by approval time, then number', () => {
    expect(orderCandidates([
      { number: 9, priority: false, approvedAt: 5 },
      { number: 7, priority: false, approvedAt: 5 },
      { number: 8, priority: false, approvedAt: 1 },
    ], []).map((p) => p.number)).toEqual([8, 7, 9]);
  });
});
