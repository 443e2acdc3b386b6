import type { Bisection, Train, TrainCi } from './train.js';

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

/** A train to build: its PRs in order, and the bisection it belongs to, if any. */
export interface Batch {
  pulls: number[];
  bisect?: Bisection;
}

export interface TrainPlan {
  /** Trains to delete without landing: built on an old base, or holding code that is no longer approved. */
  abandon: Array<{ train: Train; reason: string }>;
  /** Trains CI is still testing; the round ends when none is left. */
  running: Train[];
  /** The green train to land now. */
  land: Train | null;
  /** PRs found to break the batch (not for a check the base fails too), with the checks that failed. */
  blame: Array<{ pull: number; train: Train; checks: string[] }>;
  /** Red trains that failed only checks the base fails too: kept, blamed on nobody. */
  baseBroken: Array<{ train: Train; checks: string[] }>;
  /** The next round: batches to build as trains, on the base as it is after `land`. */
  build: Batch[];
}

/**
 * What to do with the merge trains of one base (a pure decision). Trains are tested in rounds:
 * every train of a round is built on the same base tip and CI runs them side by side. While any of
 * them runs, the round waits; then the first green train lands.
 *
 * A red batch is bisected by exclusion, keeping what is left to land (`unlanded`) and which of those
 * may have broken it (`suspects`): a round tests the unlanded PRs without one part of the suspects,
 * for two parts (a third stays in), or without each suspect once there are three or fewer. A green
 * train means the culprit is among the PRs it left out, and lands everything else at once; a red one
 * clears the suspects it left out. The last suspect is blamed. With one PR that breaks a batch of
 * ten, that is 5 or 6 CI runs in 3 rounds for 8 of the 10 positions and 7 in 4 for the other two
 * (halving takes 7 to 9 runs in 4 or 5), and every PR that lands was tested with all that landed
 * with it. Should the suspects run out
 * (two culprits, or a flaky check), the bisection starts again over what is left.
 *
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
    if (now.nextBatch.length > 0) plan.build.push({ pulls: now.nextBatch });
    return plan;
  }

  const red: Array<{ train: Train; checks: string[] }> = [];
  for (const { train, ci } of current) {
    if (ci.state === 'success') {
      plan.land ??= train;
      continue;
    }
    const own = ci.failed.length === 0 ? ['(unnamed)'] : ci.failed.filter((check) => !now.baseFailed.includes(check));
    if (own.length === 0) plan.baseBroken.push({ train, checks: ci.failed });
    else red.push({ train, checks: own });
  }
  if (plan.baseBroken.length > 0 && !plan.land && red.length === 0) return plan; // wait for the base to be fixed
  plan.abandon.push(...current.filter(({ train }) => train !== plan.land).map(({ train }) => ({ train, reason: 'its round ended' })));
  plan.baseBroken = [];
  const eligible = (n: number) => now.eligible.has(n);
  const next = nextRound(current.map(({ train }) => train), plan.land, red);
  plan.build = next.build.map((batch) => ({ ...batch, pulls: batch.pulls.filter(eligible) })).filter((batch) => batch.pulls.length > 0);
  plan.blame = next.blame.filter(({ pull }) => eligible(pull));
  return plan;
}

/** The next bisection round after this one, given what landed and which trains were red, and the PR found, if it was. */
function nextRound(
  round: Train[], landed: Train | null, red: Array<{ train: Train; checks: string[] }>,
): { build: Batch[]; blame: TrainPlan['blame'] } {
  const state = round.find((t) => t.bisect)?.bisect;
  // a plain batch (one train, no bisection yet): all of it is unlanded, and all of it suspect
  let unlanded = state?.unlanded ?? round.flatMap((t) => t.members.map((m) => m.number));
  let suspects = state?.suspects ?? unlanded;
  if (landed) {
    const merged = new Set(landed.members.map((m) => m.number));
    unlanded = unlanded.filter((n) => !merged.has(n));
    suspects = suspects.filter((n) => !merged.has(n));
  } else if (state) {
    // a red train still failed without the PRs it left out: the culprit is not among them
    for (const { train } of red) suspects = suspects.filter((n) => train.members.some((m) => m.number === n));
  }
  if (red.length === 0 || unlanded.length === 0) return { build: [], blame: [] };
  if (suspects.length === 0) suspects = unlanded; // more than one culprit, or a flaky check: start again
  if (suspects.length === 1) {
    const [culprit] = suspects as [number];
    const evidence = red.find(({ train }) => train.members.some((m) => m.number === culprit)) ?? red[0]!;
    const rest = unlanded.filter((n) => n !== culprit);
    return { build: rest.length > 0 ? [{ pulls: rest }] : [], blame: [{ pull: culprit, train: evidence.train, checks: evidence.checks }] };
  }
  const bisect = { unlanded, suspects };
  const without = (part: number[]) => ({ pulls: unlanded.filter((n) => !part.includes(n)), bisect });
  const third = Math.floor(suspects.length / 3);
  const build = suspects.length <= 3
    ? suspects.map((n) => without([n]))
    : [without(suspects.slice(0, third)), without(suspects.slice(third, 2 * third))];
  return { build, blame: [] };
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
