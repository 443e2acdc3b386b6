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
  /** Red trains by number, with the PR their failing checks' annotations point at (`pointAtCulprits`). */
  pointers?: Map<number, number>;
}

/** Up to this many suspects, a bisection round tests without each one alone. */
export const EACH_ALONE = 4;

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
 * may have broken it (`suspects`): each train of a round is the unlanded PRs without some of the
 * suspects (see `leaveOut`). A green train means the culprit is among the PRs it left out, and the
 * largest green train lands at once; a red one clears the suspects it left out. The last suspect is
 * blamed. With one PR that breaks a batch of ten, that is 5 CI runs in 3 rounds for 6 of the 10
 * positions and 6 in 3 for the other four (halving takes 7 to 9 runs in 4 or 5 rounds), and every PR
 * that lands was tested with all that landed with it. Three rounds is the least that colours alone
 * allow (landing nine needs a green train of exactly those nine). When a batch of more than
 * `EACH_ALONE` fails and its checks' annotations point at one PR (`pointers`), the second round also
 * tests without that PR, and if they were right the nine land then. Should the suspects run out (two
 * culprits, or a flaky check), the bisection starts again over what is left.
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
  const green: Train[] = [];
  for (const { train, ci } of current) {
    if (ci.state === 'success') {
      green.push(train);
      // of the green trains, the one that lands the most
      if (!plan.land || train.members.length > plan.land.members.length) plan.land = train;
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
  const next = nextRound(current.map(({ train }) => train), plan.land, green, red, now.pointers ?? new Map());
  plan.build = next.build.map((batch) => ({ ...batch, pulls: batch.pulls.filter(eligible) })).filter((batch) => batch.pulls.length > 0);
  plan.blame = next.blame.filter(({ pull }) => eligible(pull));
  return plan;
}

/**
 * The next bisection round after this one, given what landed, which trains were green and which red,
 * and the PR found, if it was. One PR is assumed to break the batch: a red train holds it, a green one
 * does not.
 */
function nextRound(
  round: Train[], landed: Train | null, green: Train[], red: Array<{ train: Train; checks: string[] }>, pointers: Map<number, number>,
): { build: Batch[]; blame: TrainPlan['blame'] } {
  const state = round.find((t) => t.bisect)?.bisect;
  if (!state && red.length === 0) return { build: [], blame: [] };
  // a plain batch (one train, no bisection yet): all of it is unlanded, and all of it suspect
  const members = (train: Train) => new Set(train.members.map((m) => m.number));
  const merged = landed ? members(landed) : new Set<number>();
  const unlanded = (state?.unlanded ?? round.flatMap((t) => t.members.map((m) => m.number))).filter((n) => !merged.has(n));
  let suspects = state?.suspects ?? unlanded;
  for (const { train } of red) {
    const held = members(train);
    suspects = suspects.filter((n) => held.has(n));
  }
  for (const train of green) {
    const held = members(train);
    suspects = suspects.filter((n) => !held.has(n));
  }
  if (unlanded.length === 0) return { build: [], blame: [] };
  if (suspects.length === 0) {
    if (red.length === 0) return { build: [], blame: [] }; // a flaky red earlier: batch what is left afresh
    suspects = unlanded; // more than one culprit, or a flaky check: start again
  }
  // (a train written before bisections kept their checks has none)
  const failed = state?.failed.length ? state.failed : [...new Set(red.flatMap(({ checks }) => checks))];
  if (suspects.length === 1) {
    const [culprit] = suspects as [number];
    // the evidence: a red train that held it, or else the train that passed without it
    const evidence = red.find(({ train }) => members(train).has(culprit)) ?? { train: landed ?? green[0] ?? round[0]!, checks: failed.length > 0 ? failed : ['(unnamed)'] };
    const rest = unlanded.filter((n) => n !== culprit);
    return { build: rest.length > 0 ? [{ pulls: rest }] : [], blame: [{ pull: culprit, ...evidence }] };
  }
  const bisect = { unlanded, suspects, failed };
  const parts = leaveOut(suspects);
  // the failures point at one suspect: also test without it, beside the usual trains, so that a
  // right pointer lands the rest at the end of this round and a wrong one costs a run, never a round
  const pointed = red.map(({ train }) => pointers.get(train.number)).find((n) => n !== undefined && suspects.includes(n));
  if (pointed !== undefined && suspects.length > EACH_ALONE) parts.unshift([pointed]);
  return { build: parts.map((part) => ({ pulls: unlanded.filter((n) => !part.includes(n)), bisect })), blame: [] };
}

/**
 * Which suspects each train of the next round leaves out. Up to four: each one alone, so that the
 * green train is the one to land and its missing PR the culprit, in this round. More: suspect i
 * gets the code i mod 2^k, and train j leaves out the suspects whose code has bit j, for the
 * smallest k that leaves at most two suspects per code. The trains' colours spell the culprit's
 * code, so the round after needs at most two trains, each without one of those two, and one of them
 * lands. Ten suspects: 3 trains, then 1 or 2.
 */
function leaveOut(suspects: number[]): number[][] {
  if (suspects.length <= EACH_ALONE) return suspects.map((n) => [n]);
  const bits = Math.ceil(Math.log2(suspects.length / 2));
  return Array.from({ length: bits }, (_, bit) => suspects.filter((_, i) => ((i % 2 ** bits) >> bit) & 1));
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
