import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { changedPaths } from '../git/changed-paths.js';
import { runGit } from '../git/run-git.js';
import { AGENT_BRANCH_PREFIX } from '../names.js';
import { mergeTree, type MergeResult } from './merge-tree.js';

/** Who made a synthetic commit, and when: fixed, so the same tree on the same base is the same commit. */
const SYNTHETIC_SIGNATURE = 'agent-mapreduce <agent-mapreduce@localhost> 0 +0000';

export interface Candidate {
  number: number;
  headSha: string;
}

export interface Conflict {
  files: string[];
  /** git's own words for it, e.g. `CONFLICT (content): Merge conflict in src/a.ts`. */
  messages: string[];
}

export interface ConflictGraph {
  /** Candidates that do not merge into the base tip as they are. */
  withBase: Map<number, Conflict>;
  /** Pairs of candidates that each merge cleanly into the base but not with each other. */
  pairs: Array<{ a: number; b: number } & Conflict>;
}

/** Merge results by the SHAs merged; pass one map across passes so unchanged pairs are not merged again. */
export type MergeCache = Map<string, MergeResult>;

/**
 * Which agent PRs conflict, with the base and with each other (DESIGN §5.3). Each candidate is
 * merged into the base tip; a clean result becomes a synthetic commit whose parent is the base tip,
 * and pairs of those are merged, so that their merge base is the base tip and only what X and Y
 * change against each other can conflict (a plain merge of two branches cut at different times
 * blames the fresh one for the stale one's age). Pairs that change no file in common are skipped.
 *
 * Each git process costs a few milliseconds however little it does, so the work is shaped to start
 * few (git 2.39 has no `merge-tree --stdin`): one `for-each-ref` finds the candidates already on the
 * base tip, which need no merge; one `diff-tree --stdin` lists the files of every clean result; and
 * one `hash-object` writes the synthetic commits, only for candidates that share a file with another.
 */
export async function buildConflictGraph(options: {
  cloneDir: string;
  baseSha: string;
  candidates: Candidate[];
  env?: Record<string, string>;
  cache?: MergeCache;
  concurrency?: number;
}): Promise<ConflictGraph> {
  const { cloneDir, baseSha, env = {} } = options;
  const cache = options.cache ?? new Map();
  const limit = pLimit(options.concurrency ?? 2);
  const git = (args: string[], input?: string) => runGit(args, { cwd: cloneDir, env, ...(input ? { input } : {}) });
  const merge = async (key: string, ours: string, theirs: string): Promise<MergeResult> => {
    const cached = cache.get(key);
    if (cached) return cached;
    const result = await mergeTree(cloneDir, ours, theirs, env);
    cache.set(key, result);
    return result;
  };

  // 1. each candidate into the base tip; one already on it (a fresh branch, or one the app rebased)
  //    merges as its own tree, which one listing of the refs that contain the tip gives for all
  const onTip = await treesContaining(git, baseSha);
  const withBase = new Map<number, Conflict>();
  const clean: Array<{ number: number; tree: string; headSha: string }> = [];
  await Promise.all(options.candidates.map((candidate) => limit(async () => {
    const own = onTip.get(candidate.headSha);
    const result = own ? { clean: true as const, tree: own } : await merge(`${baseSha}:${candidate.headSha}`, baseSha, candidate.headSha);
    if (result.clean) clean.push({ number: candidate.number, tree: result.tree, headSha: candidate.headSha });
    else withBase.set(candidate.number, { files: result.files, messages: result.messages });
  })));
  clean.sort((a, b) => a.number - b.number);

  // 2. the files each clean result changes against the base, all in one process
  const files = await changedPaths(git, `${baseSha}^{tree}`, clean.map((c) => c.tree));
  const overlapping: Array<[number, number]> = [];
  for (let i = 0; i < clean.length; i++) {
    const a = files.get(clean[i]!.tree)!;
    for (let j = i + 1; j < clean.length; j++) {
      const b = files.get(clean[j]!.tree)!;
      if ([...a].some((f) => b.has(f))) overlapping.push([i, j]);
    }
  }

  // 3. synthetic commits for the candidates of pairs not merged before, all in one process, and those pairs merged
  const keyOf = ([i, j]: [number, number]) => `${baseSha}:${clean[i]!.headSha}:${clean[j]!.headSha}`;
  const needed = [...new Set(overlapping.filter((pair) => !cache.has(keyOf(pair))).flat())];
  const commits = await syntheticCommits(git, baseSha, needed.map((i) => clean[i]!));
  const synthetic = new Map(needed.map((i, k) => [i, commits[k]!]));
  const pairs: ConflictGraph['pairs'] = [];
  await Promise.all(overlapping.map((pair) => limit(async () => {
    const [a, b] = [clean[pair[0]]!, clean[pair[1]]!];
    const result = cache.get(keyOf(pair)) ?? await merge(keyOf(pair), synthetic.get(pair[0])!, synthetic.get(pair[1])!);
    if (!result.clean) pairs.push({ a: a.number, b: b.number, files: result.files, messages: result.messages });
  })));
  pairs.sort((x, y) => x.a - y.a || x.b - y.b);
  return { withBase, pairs };
}

/**
 * For each merged tree, a commit of it whose parent is the base tip: `hash-object --stdin-paths`
 * writes them all from files in one process (a `commit-tree` each would start one per candidate).
 */
async function syntheticCommits(
  git: (args: string[], input?: string) => Promise<string>, baseSha: string, merged: Array<{ number: number; tree: string }>,
): Promise<string[]> {
  if (merged.length === 0) return [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synthetic-'));
  try {
    const files = await Promise.all(merged.map(async ({ number, tree }, k) => {
      const file = path.join(dir, String(k));
      const body = `tree ${tree}\nparent ${baseSha}\nauthor ${SYNTHETIC_SIGNATURE}\ncommitter ${SYNTHETIC_SIGNATURE}\n\nsynthetic merge of #${number}\n`;
      await writeFile(file, body);
      return file;
    }));
    const shas = (await git(['hash-object', '-t', 'commit', '-w', '--stdin-paths'], `${files.join('\n')}\n`)).split('\n').filter(Boolean);
    if (shas.length !== merged.length) throw new Error(`git hash-object wrote ${shas.length} synthetic commits of ${merged.length}`);
    return shas;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The commit and tree of every agent branch whose commit contains `sha` (only those: a repository's
 * thousands of other branches would each cost a walk of history).
 */
async function treesContaining(git: (args: string[]) => Promise<string>, sha: string): Promise<Map<string, string>> {
  const listed = await git(['for-each-ref', `--contains=${sha}`, '--format=%(objectname) %(tree)', `refs/remotes/origin/${AGENT_BRANCH_PREFIX}`]);
  return new Map(listed.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
}
