import type { Train, TrainCi } from './train.js';

export interface TrainsNow {
  baseSha: string;
  /** The base tip's failing checks: a train failing only those is not blamed on its PRs. */
  baseFailed: string[];
  /** Each train of the base with what CI says of it, oldest first. */
  trains: Array<{ train: Train; ci: TrainCi }>;
  /** The eligible PRs (approved for their head, checks green on it) by number, with that head. */
  eligible: Map<number, string>;
  /** The next batch, should a new train be needed: a prefix of the merge order. */
  nextBatch: number[];
}

export interface TrainPlan {
  /** Trains to delete without landing: built on an old base, or holding code that is no longer approved. */
  abandon: Array<{ train: Train; reason: string }>;
  /** Trains CI is still testing; the round ends when none is left. */
  running: Train[];
  /** The green train to land now. */
  land: Train | null;
  /** PRs that failed CI on their own (and not for a check the base fails too). */
  blame: Array<{ pull: number; train: Train; checks: string[] }>;
  /** Red trains that failed only checks the base fails too: kept, blamed on nobody. */
  baseBroken: Array<{ train: Train; checks: string[] }>;
  /** The next round: batches to build as trains, on the base as it is after `land`. */
  build: number[][];
}

/**
 * What to do with the merge trains of one base (a pure decision; DESIGN §5.6). Trains are tested
 * in rounds: every train of a round is built on the same base tip and CI runs them side by side.
 * While any of them runs, the round waits. Then the first green train lands; a red train of several
 * PRs is split in halves for the next round (bisection), a red train of one PR blames that PR,
 * unless the base fails the same checks; a green train that could not land with the first (the
 * base moved under it) is tested again as it is. With no train left, the next batch becomes one.
 * A train is abandoned as soon as its base is not the tip (someone pushed to the base) or one of its
 * PRs is no longer eligible with the head it was built from: nothing lands that CI did not test.
 */
export function planTrains(now: TrainsNow): TrainPlan {
  const plan: TrainPlan = { abandon: [], running: [], land: null, blame: [], baseBroken: [], build: [] };
  const current: TrainsNow['trains'] = [];
  for (const entry of now.trains) {
    const reason = staleness(entry.train, now);
    if (reason) plan.abandon.push({ train: entry.train, reason });
    else current.push(entry);
  }
  plan.running = current.filter(({ ci }) => ci.state === 'pending' || ci.state === 'none').map(({ train }) => train);
  if (plan.running.length > 0) return plan;
  if (current.length === 0) {
    if (now.nextBatch.length > 0) plan.build.push(now.nextBatch);
    return plan;
  }

  for (const { train, ci } of current) {
    if (ci.state === 'success') {
      if (!plan.land) plan.land = train;
      else {
        plan.abandon.push({ train, reason: 'green, but the base moves when the train before it lands: tested again' });
        plan.build.push(train.members.map((m) => m.number));
      }
      continue;
    }
    const own = ci.failed.length === 0 ? ['(unnamed)'] : ci.failed.filter((check) => !now.baseFailed.includes(check));
    if (own.length === 0) {
      plan.baseBroken.push({ train, checks: ci.failed });
      continue;
    }
    plan.abandon.push({ train, reason: `CI failed (${own.join(', ')})` });
    const numbers = train.members.map((m) => m.number);
    if (numbers.length === 1) plan.blame.push({ pull: numbers[0]!, train, checks: own });
    else plan.build.push(numbers.slice(0, Math.ceil(numbers.length / 2)), numbers.slice(Math.ceil(numbers.length / 2)));
  }
  return plan;
}

function staleness(train: Train, now: TrainsNow): string | null {
  if (train.baseSha !== now.baseSha) return 'the base branch moved since the train was built';
  const moved = train.members.filter((m) => now.eligible.get(m.number) !== m.headSha);
  if (moved.length > 0) return `${moved.map((m) => `#${m.number}`).join(', ')} changed or is no longer approved`;
  return null;
}

/**
 * The next batch: the longest prefix of the merge order, up to `size`, whose PRs conflict with none
 * before them (those that conflict with the base are not in `order`). A PR that conflicts with one
 * in the batch ends it: it is rebased onto the base once that one has merged.
 */
export function nextBatch(order: number[], pairs: Array<{ a: number; b: number }>, size: number): number[] {
  const batch: number[] = [];
  for (const number of order) {
    if (batch.length >= size) break;
    if (pairs.some(({ a, b }) => (a === number && batch.includes(b)) || (b === number && batch.includes(a)))) break;
    batch.push(number);
  }
  return batch;
}
