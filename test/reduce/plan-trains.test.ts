import { describe, expect, it } from '@jest/globals';
import { nextBatch, planTrains, type TrainsNow } from '../../src/reduce/plan-trains.js';
import { parseTrain, trainTrailers, type Train, type TrainCi } from '../../src/reduce/train.js';

const sha = (c: string) => c.repeat(40);
const train = (number: number, members: number[], baseSha = sha('b')): Train => ({
  number, branch: `agent-mapreduce/train/main/${number}`, sha: sha(String(number % 10)), baseSha, members: members.map((n) => ({ number: n, headSha: sha('e') })),
});
const ci = (state: TrainCi['state'], failed: string[] = []): TrainCi => ({ state, failed });
const now = (trains: TrainsNow['trains'], extra: Partial<TrainsNow> = {}): TrainsNow => ({
  baseSha: sha('b'), baseFailed: [], trains, eligible: new Map([1, 2, 3, 4, 5].map((n) => [n, sha('e')])), nextBatch: [1, 2, 3, 4, 5], ...extra,
});

describe('planTrains', () => {
  it('builds the next batch as one train when there is none', () => {
    expect(planTrains(now([])).build).toEqual([{ pulls: [1, 2, 3, 4, 5] }]);
  });

  it('waits while any train of the round runs, and lands nothing before the round ends', () => {
    const plan = planTrains(now([{ train: train(1, [1, 2]), ci: ci('success') }, { train: train(2, [3]), ci: ci('pending') }]));
    expect(plan.running.map((t) => t.number)).toEqual([2]);
    expect(plan.land).toBeNull();
    expect(plan.build).toEqual([]);
  });

  it('abandons a train built on an old base, or holding a PR whose head moved or lost its approval', () => {
    const eligible = new Map([[1, sha('e')], [2, sha('f')]]);
    const plan = planTrains(now([
      { train: train(1, [1], sha('a')), ci: ci('success') }, { train: train(2, [2]), ci: ci('success') }, { train: train(3, [3]), ci: ci('success') },
    ], { eligible, nextBatch: [] }));
    expect(plan.abandon.map(({ train: t, reason }) => [t.number, reason])).toEqual([
      [1, 'the base branch moved since the train was built'], [2, '#2 changed or is no longer approved'], [3, '#3 changed or is no longer approved'],
    ]);
    expect(plan.land).toBeNull();
  });

  it('bisects a red batch of more than four by trains whose colours spell the culprit in binary', () => {
    const six = [1, 2, 3, 4, 5, 6];
    const plan = planTrains(now([{ train: train(1, six), ci: ci('failure', ['test']) }], { eligible: new Map(six.map((n) => [n, sha('e')])) }));
    const bisect = { unlanded: six, suspects: six, failed: ['test'] };
    // codes 0 1 2 3 0 1: the first train leaves out those with bit 0 (2, 4, 6), the second bit 1 (3, 4)
    expect(plan.build).toEqual([{ pulls: [1, 3, 5], bisect }, { pulls: [1, 2, 5, 6], bisect }]);
    expect(plan.abandon.map(({ train: t }) => t.number)).toEqual([1]);
    expect(plan.blame).toEqual([]);
  });

  it('tests without each suspect once there are four or fewer', () => {
    const four = [1, 2, 3, 4];
    const plan = planTrains(now([{ train: train(1, four), ci: ci('failure', ['test']) }], { eligible: new Map(four.map((n) => [n, sha('e')])) }));
    const bisect = { unlanded: four, suspects: four, failed: ['test'] };
    expect(plan.build).toEqual([[2, 3, 4], [1, 3, 4], [1, 2, 4], [1, 2, 3]].map((pulls) => ({ pulls, bisect })));
  });

  it('lands a green train of a bisection round, and blames the one PR it left out', () => {
    const bisect = { unlanded: [1, 2, 3], suspects: [1, 2, 3], failed: ['test'] };
    const without = (number: number, left: number) => ({ ...train(number, [1, 2, 3].filter((n) => n !== left)), bisect });
    const plan = planTrains(now([
      { train: without(2, 1), ci: ci('failure', ['test']) }, { train: without(3, 2), ci: ci('success') }, { train: without(4, 3), ci: ci('failure', ['test']) },
    ]));
    expect(plan.land?.members.map((m) => m.number)).toEqual([1, 3]);
    expect(plan.blame).toEqual([{ pull: 2, train: expect.objectContaining({ number: 2 }), checks: ['test'] }]);
    expect(plan.build).toEqual([]);
    expect(plan.abandon.map(({ train: t }) => t.number)).toEqual([2, 4]);
  });

  it('clears the suspects a red train left out and those a green one held, and lands the largest green train', () => {
    const six = [1, 2, 3, 4, 5, 6];
    const bisect = { unlanded: six, suspects: six, failed: ['test'] };
    const red = planTrains(now([
      { train: { ...train(2, [1, 3, 5]), bisect }, ci: ci('failure', ['test']) }, { train: { ...train(3, [1, 2, 5, 6]), bisect }, ci: ci('failure', ['test']) },
    ], { eligible: new Map(six.map((n) => [n, sha('e')])) }));
    const next = { unlanded: six, suspects: [1, 5], failed: ['test'] };
    expect(red.build).toEqual([{ pulls: [2, 3, 4, 5, 6], bisect: next }, { pulls: [1, 2, 3, 4, 6], bisect: next }]);

    // #4 left out of both: both green; the larger lands (#1, #2, #5, #6), #4 is the one, #3 is left
    const green = planTrains(now([
      { train: { ...train(2, [1, 3, 5]), bisect }, ci: ci('success') }, { train: { ...train(3, [1, 2, 5, 6]), bisect }, ci: ci('success') },
    ], { eligible: new Map(six.map((n) => [n, sha('e')])) }));
    expect(green.land?.number).toBe(3);
    expect(green.build).toEqual([{ pulls: [3] }]);
    expect(green.blame).toEqual([{ pull: 4, train: expect.objectContaining({ number: 3 }), checks: ['test'] }]);
  });

  it('also tests without the PR a red batch’s failures point at, first, beside the binary trains', () => {
    const six = [1, 2, 3, 4, 5, 6];
    const eligible = new Map(six.map((n) => [n, sha('e')]));
    const plan = planTrains(now([{ train: train(1, six), ci: ci('failure', ['lint']) }], { eligible, pointers: new Map([[1, 4]]) }));
    const bisect = { unlanded: six, suspects: six, failed: ['lint'] };
    expect(plan.build).toEqual([{ pulls: [1, 2, 3, 5, 6], bisect }, { pulls: [1, 3, 5], bisect }, { pulls: [1, 2, 5, 6], bisect }]);

    // right: every train lacks #4, so all are green; the largest lands the other five this round, and #4 is the one
    const round = (colours: Array<'success' | 'failure'>) => planTrains(now(plan.build.map(({ pulls }, i) => ({
      train: { ...train(i + 2, pulls), bisect }, ci: colours[i] === 'success' ? ci('success') : ci('failure', ['lint']),
    })), { eligible }));
    const right = round(['success', 'success', 'success']);
    expect(right.land?.members.map((m) => m.number)).toEqual([1, 2, 3, 5, 6]);
    expect(right.blame).toEqual([{ pull: 4, train: expect.objectContaining({ number: 2 }), checks: ['lint'] }]);
    expect(right.build).toEqual([]);

    // wrong (#2 broke it): the binary trains still narrow it to #2 or #6, as without a pointer; one run more, no round more
    const wrong = round(['failure', 'success', 'failure']);
    expect(wrong.land?.members.map((m) => m.number)).toEqual([1, 3, 5]);
    const next = { unlanded: [2, 4, 6], suspects: [2, 6], failed: ['lint'] };
    expect(wrong.build).toEqual([{ pulls: [4, 6], bisect: next }, { pulls: [2, 4], bisect: next }]);
  });

  it('needs no pointer for four suspects or fewer: each is already left out alone', () => {
    const four = [1, 2, 3, 4];
    const plan = planTrains(now([{ train: train(1, four), ci: ci('failure', ['test']) }], {
      eligible: new Map(four.map((n) => [n, sha('e')])), pointers: new Map([[1, 3]]),
    }));
    expect(plan.build.map(({ pulls }) => pulls)).toEqual([[2, 3, 4], [1, 3, 4], [1, 2, 4], [1, 2, 3]]);
  });

  it('blames the PR of a red train of one, and builds nothing for PRs that are no longer eligible', () => {
    const plan = planTrains(now([{ train: train(1, [6]), ci: ci('failure', ['lint']) }], { eligible: new Map([[6, sha('e')]]) }));
    expect(plan.blame).toEqual([{ pull: 6, train: expect.objectContaining({ number: 1 }), checks: ['lint'] }]);
    expect(plan.build).toEqual([]);
  });

  it('keeps a red train that fails only what the base fails too, and blames nobody', () => {
    const plan = planTrains(now([{ train: train(1, [1]), ci: ci('failure', ['test']) }], { baseFailed: ['test'] }));
    expect(plan.baseBroken).toEqual([{ train: expect.objectContaining({ number: 1 }), checks: ['test'] }]);
    expect(plan.blame).toEqual([]);
    expect(plan.abandon).toEqual([]);
  });
});

describe('nextBatch', () => {
  it('is the longest prefix of the order without a conflicting pair, up to the batch size', () => {
    expect(nextBatch([1, 2, 3, 4], [{ a: 3, b: 1 }], 8)).toEqual([1, 2]);
    expect(nextBatch([1, 2, 3, 4], [{ a: 3, b: 4 }], 8)).toEqual([1, 2, 3]);
    expect(nextBatch([1, 2, 3, 4], [], 2)).toEqual([1, 2]);
  });
});

describe('train trailers', () => {
  it('read back what they say, and nothing from a commit the app did not write', () => {
    const members = [{ number: 12, headSha: sha('c') }, { number: 15, headSha: sha('d') }];
    const message = `Merge train 3 into main: #12, #15\n\n${trainTrailers({ number: 3, baseSha: sha('a'), members })}\n`;
    expect(parseTrain('agent-mapreduce/train/main/3', sha('f'), message)).toEqual({
      number: 3, branch: 'agent-mapreduce/train/main/3', sha: sha('f'), baseSha: sha('a'), members,
    });
    expect(parseTrain('agent-mapreduce/train/main/3', sha('f'), 'Someone pushed here')).toBeNull();
    expect(parseTrain('x', sha('f'), `${message}Agent-Mapreduce-Pull: 16 not-a-sha\n`)).toBeNull();
    const bisect = { unlanded: [12, 15, 16], suspects: [15, 16], failed: ['test (node 20)', 'lint'] };
    const bisecting = `Merge train 4 into main: #12, #15\n\n${trainTrailers({ number: 4, baseSha: sha('a'), members, bisect })}\n`;
    expect(parseTrain('b', sha('f'), bisecting)?.bisect).toEqual(bisect);
  });
});
