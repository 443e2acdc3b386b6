import pLimit from 'p-limit';
import { runGit } from '../git/run-git.js';
import { mergeTree, type MergeResult } from './merge-tree.js';

const SYNTHETIC_IDENTITY = {
  GIT_AUTHOR_NAME: 'agent-mapreduce', GIT_AUTHOR_EMAIL: 'agent-mapreduce@localhost',
  GIT_COMMITTER_NAME: 'agent-mapreduce', GIT_COMMITTER_EMAIL: 'agent-mapreduce@localhost',
};

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
  // the synthetic commits need an identity; a cached clone has none configured
  const git = (args: string[]) => runGit(args, { cwd: cloneDir, env: { ...env, ...SYNTHETIC_IDENTITY } });
  const merge = async (key: string, ours: string, theirs: string): Promise<MergeResult> => {
    const cached = cache.get(key);
    if (cached) return cached;
    const result = await mergeTree(cloneDir, ours, theirs, env);
    cache.set(key, result);
    return result;
  };

  const withBase = new Map<number, Conflict>();
  const clean: Array<{ number: number; synthetic: string; files: Set<string>; headSha: string }> = [];
  await Promise.all(options.candidates.map((candidate) => limit(async () => {
    const result = await merge(`${baseSha}:${candidate.headSha}`, baseSha, candidate.headSha);
    if (!result.clean) {
      withBase.set(candidate.number, { files: result.files, messages: result.messages });
      return;
    }
    const synthetic = (await git(['commit-tree', result.tree, '-p', baseSha, '-m', `synthetic merge of #${candidate.number}`])).trim();
    const files = (await git(['diff', '--name-only', '--no-renames', baseSha, synthetic])).split('\n').filter(Boolean);
    clean.push({ number: candidate.number, synthetic, files: new Set(files), headSha: candidate.headSha });
  })));

  clean.sort((a, b) => a.number - b.number);
  const pairs: ConflictGraph['pairs'] = [];
  const jobs: Array<Promise<void>> = [];
  for (let i = 0; i < clean.length; i++) {
    for (let j = i + 1; j < clean.length; j++) {
      const a = clean[i]!;
      const b = clean[j]!;
      if (![...a.files].some((f) => b.files.has(f))) continue;
      jobs.push(limit(async () => {
        const result = await merge(`${baseSha}:${a.headSha}:${b.headSha}`, a.synthetic, b.synthetic);
        if (!result.clean) pairs.push({ a: a.number, b: b.number, files: result.files, messages: result.messages });
      }));
    }
  }
  await Promise.all(jobs);
  pairs.sort((x, y) => x.a - y.a || x.b - y.b);
  return { withBase, pairs };
}
