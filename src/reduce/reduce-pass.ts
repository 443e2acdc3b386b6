import type { RepoConfig } from '../config/schema.js';
import type { BotIdentity } from '../github/bot-identity.js';
import type { MarkedComments } from '../github/marked-comment.js';
import type { PermissionCache } from '../github/permission-cache.js';
import type { GitHub, PullInfo, RepositoryInfo } from '../github/port.js';
import type { Workspace } from '../git/workspace.js';
import type { Logger } from '../log.js';
import { issueOfBranch } from '../names.js';
import type { ProfileRecorder } from '../profile/profile-event.js';
import type { Conflict, ConflictGraph, MergeCache } from './conflict-graph.js';
import type { Placed } from './order-candidates.js';

export interface ReduceDeps {
  workspace: Workspace;
  comments: MarkedComments;
  permissions: PermissionCache;
  botIdentity(github: GitHub): Promise<BotIdentity>;
  gitEnv?: Record<string, string>;
  mergeCache: MergeCache;
  /** The merge-order check run last written per PR head, so an unchanged place costs no write. */
  shownOrder?: Map<string, string>;
  profile: ProfileRecorder;
  /** The last merge train number used per repository and base, so numbers keep rising after trains are deleted. */
  trainNumbers?: Map<string, number>;
  /** Bases that take merges only through GitHub's merge queue (learnt from its 405), and what was queued there. */
  mergeQueue?: MergeQueueState;
  /** With `reduce.autoResolve`: start the agent's rebase of a PR that conflicts, instead of only flagging it. */
  resolveConflict?: (pass: ReducePass, pullNumber: number, issueNumber: number) => void;
}

export interface ReducePass {
  github: GitHub;
  repository: RepositoryInfo;
  baseRef: string;
  config: RepoConfig;
  log: Logger;
  /** Aborted when the pass must stop before its next merge (a fleet's pass that lost its lock). */
  signal?: AbortSignal;
}

export interface ReduceReport {
  order: number[];
  merged: number[];
  flagged: number[];
  waiting: Array<{ number: number; reason: string }>;
}

/** A PR left out of the order, with what it conflicts with (`#12`, or the base branch). */
export type Flagged = Map<number, { conflict: Conflict; with: string }>;

/** Where one pass works: the repository's cached clone at the base's current tip. */
export interface PassPlace {
  repo: { owner: string; repo: string; cloneUrl: string };
  clone: string;
  env: Record<string, string>;
}

export interface MergeQueueState {
  /** `owner/repo:base` */
  bases: Set<string>;
  /** `owner/repo#n` → the head it was queued with, so a pass does not queue it again. */
  queued: Map<string, string>;
}

/** `owner/repo:base`: one reduce pass at a time, one set of trains, one merge queue. */
export function baseKey(pass: ReducePass): string {
  return `${pass.github.owner}/${pass.github.repo}:${pass.baseRef}`;
}

/**
 * Whether a refused merge says the base takes merges only through GitHub's merge queue
 * ("Changes must be made through the merge queue"); if so, the base is remembered as one.
 */
export function learnMergeQueue(deps: ReduceDeps, pass: ReducePass, refusal: string): boolean {
  if (!/merge queue/i.test(refusal)) return false;
  deps.mergeQueue?.bases.add(baseKey(pass));
  pass.log.info({ base: pass.baseRef }, 'the base takes merges through GitHub\'s merge queue: PRs are queued there in the merge order');
  return true;
}

/** The PRs of the order that conflict with the base, to flag, and the others, in order. */
export function setAsideBaseConflicts(order: Placed[], graph: ConflictGraph, baseRef: string): { flagged: Flagged; rest: Placed[] } {
  const flagged: Flagged = new Map();
  const rest: Placed[] = [];
  for (const placed of order) {
    const conflict = graph.withBase.get(placed.number);
    if (conflict) flagged.set(placed.number, { conflict, with: `the base branch \`${baseRef}\`` });
    else rest.push(placed);
  }
  return { flagged, rest };
}

/** The issue a PR of the pass works on, for the profile. */
export function issueRef(github: GitHub, pull: PullInfo): { repo: string; issue: number } {
  return { repo: `${github.owner}/${github.repo}`, issue: issueOfBranch(pull.headRef) ?? 0 };
}
