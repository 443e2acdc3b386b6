/**
 * A merge train: the base tip plus a batch of approved PRs, applied as the merge method would, on a
 * branch the app owns (`agent-mapreduce/train/<base>/<n>`), so that CI tests the batch once. The
 * train says what it holds in its tip commit's message, so a pass (or another process, or the app
 * after a restart) reads it back from git alone.
 */

export interface TrainMember {
  number: number;
  /** The PR's head when the train was built: the train stands for exactly this code. */
  headSha: string;
}

export interface Train {
  number: number;
  branch: string;
  /** The train's tip. */
  sha: string;
  /** The base tip it was built on. */
  baseSha: string;
  /** In the order they were applied, which is the order they merge in. */
  members: TrainMember[];
  /** Set while a red batch is bisected: what is left of it to land, and which of those may have broken it. */
  bisect?: Bisection;
}

/**
 * A red batch being narrowed down: `unlanded` are its PRs not merged yet, `suspects` those of them
 * that may be the one that broke it. Each train of a bisection round is `unlanded` minus some suspects.
 */
export interface Bisection {
  unlanded: number[];
  suspects: number[];
  /** The checks the batch failed, to name when the culprit is found by trains that passed without it. */
  failed: string[];
}

/** What CI says of a train's tip. */
export interface TrainCi {
  /** `none`: no check has started yet (CI is slow to notice the push, or does not run on train branches). */
  state: 'pending' | 'success' | 'failure' | 'none';
  /** The checks that failed, by name. */
  failed: string[];
}

/** A train as a pass reads it back: what CI says, and when it was built (its tip's commit time). */
export interface ReadTrain {
  train: Train;
  ci: TrainCi;
  builtAt: number;
}

const TRAIN = 'Agent-Mapreduce-Train';
const BASE = 'Agent-Mapreduce-Base';
const PULL = 'Agent-Mapreduce-Pull';
const UNLANDED = 'Agent-Mapreduce-Unlanded';
const SUSPECTS = 'Agent-Mapreduce-Suspects';
const FAILED = 'Agent-Mapreduce-Failed';

/** The trailers that make a commit a train's tip. */
export function trainTrailers(train: Omit<Train, 'branch' | 'sha'>): string {
  return [
    `${TRAIN}: ${train.number}`,
    `${BASE}: ${train.baseSha}`,
    ...train.members.map((m) => `${PULL}: ${m.number} ${m.headSha}`),
    ...(train.bisect ? [
      `${UNLANDED}: ${train.bisect.unlanded.join(' ')}`,
      `${SUSPECTS}: ${train.bisect.suspects.join(' ')}`,
      // a check's name is one line; each gets its own trailer
      ...train.bisect.failed.map((check) => `${FAILED}: ${check.replace(/\s+/g, ' ')}`),
    ] : []),
  ].join('\n');
}

/** The train a tip commit's message describes; null when it is not one the app wrote. */
export function parseTrain(branch: string, sha: string, message: string): Train | null {
  const value = (key: string) => [...message.matchAll(new RegExp(`^${key}: (.+)$`, 'gm'))].map((m) => m[1]!.trim());
  const [number] = value(TRAIN);
  const [baseSha] = value(BASE);
  if (!number || !baseSha || !/^\d+$/.test(number)) return null;
  const members: TrainMember[] = [];
  for (const line of value(PULL)) {
    const match = /^(\d+) ([0-9a-f]{40})$/.exec(line);
    if (!match) return null;
    members.push({ number: Number(match[1]), headSha: match[2]! });
  }
  if (members.length === 0) return null;
  const numbers = (key: string) => {
    const [line] = value(key);
    return line !== undefined && /^\d+( \d+)*$/.test(line) ? line.split(' ').map(Number) : null;
  };
  const [unlanded, suspects] = [numbers(UNLANDED), numbers(SUSPECTS)];
  const bisect = unlanded && suspects ? { bisect: { unlanded, suspects, failed: value(FAILED) } } : {};
  return { number: Number(number), branch, sha, baseSha, members, ...bisect };
}

/** `#12, #15` */
export function listPulls(numbers: number[]): string {
  return numbers.map((n) => `#${n}`).join(', ');
}
