export interface OrderInput {
  number: number;
  /** Carries one of `reduce.priorityLabels`. */
  priority: boolean;
  /** When the approval that makes it eligible was given, ms since the epoch. */
  approvedAt: number;
}

export interface Placed {
  number: number;
  /** 1 for the next to merge. */
  place: number;
  /** PRs ahead of it that it conflicts with: it waits for them to merge, then is rebased. */
  waitsFor: number[];
}

/**
 * The merge order (DESIGN §5.4): priority-labelled PRs first, then the PRs that conflict with the
 * fewest others (so the most merge without a rebase), then the earliest approved.
 */
export function orderCandidates(pulls: OrderInput[], conflicts: Array<{ a: number; b: number }>): Placed[] {
  const partners = new Map<number, Set<number>>(pulls.map((p) => [p.number, new Set<number>()]));
  for (const { a, b } of conflicts) {
    partners.get(a)?.add(b);
    partners.get(b)?.add(a);
  }
  const degree = (n: number) => partners.get(n)?.size ?? 0;
  const sorted = [...pulls].sort((x, y) =>
    Number(y.priority) - Number(x.priority) ||
    degree(x.number) - degree(y.number) ||
    x.approvedAt - y.approvedAt ||
    x.number - y.number);
  const ahead = new Set<number>();
  return sorted.map((pull, i) => {
    const waitsFor = [...(partners.get(pull.number) ?? [])].filter((n) => ahead.has(n)).sort((a, b) => a - b);
    ahead.add(pull.number);
    return { number: pull.number, place: i + 1, waitsFor };
  });
}
