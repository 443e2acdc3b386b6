import { changedPaths } from '../git/changed-paths.js';
import { runGit } from '../git/run-git.js';
import type { Worktree } from '../git/worktree.js';
import { issueOfBranch } from '../names.js';
import { syncClone } from '../pipeline/sync-clone.js';
import type { IssueJob, MapDeps } from './issue-job.js';

/** Another open agent PR whose change overlaps this one. */
export interface Sibling {
  number: number;
  /** The files both change. */
  shared: string[];
  /** How alike the two changes are: shared changed lines over all changed lines of either, 0 to 1. */
  similarity: number;
}

/** Open agent PRs compared at most, newest first: enough for a repository's wave of agents. */
const MAX_COMPARED = 50;

/**
 * The other open agent PRs on the same base whose change touches a file this one touches (`files`,
 * the paths this run changed), most alike first, so that the PR body can name them before a reviewer
 * reads it ("duplicate" and "already done in another PR" are among the leading reasons agent PRs are
 * closed). Each change is its diff from where it left the base (`base...head`), without context
 * lines, so that a base edit next to it does not count; two changes are alike by the added and
 * removed lines they share. A PR that shares no file costs no diff: most runs find none, in two git
 * processes. The comparison is advice: when it fails, the PR opens without it (logged).
 */
export async function findSiblings(
  deps: MapDeps, job: IssueJob, worktree: Worktree, change: { base: string; headSha: string; files: string[] },
): Promise<Sibling[]> {
  const { github, issueNumber, log } = job;
  const { base, headSha } = change;
  try {
    const others = (await github.listOpenPulls())
      .filter((p) => p.baseRef === base && !p.fromFork && issueOfBranch(p.headRef) !== undefined && issueOfBranch(p.headRef) !== issueNumber)
      .sort((a, b) => b.number - a.number)
      .slice(0, MAX_COMPARED);
    if (others.length === 0) return [];
    // paths as they are (not quoted), so that a file's name reads the same in both diffs
    const git = (args: string[], input?: string) =>
      runGit(['-c', 'core.quotePath=false', ...args], { cwd: worktree.cloneDir, env: deps.gitEnv ?? {}, ...(input ? { input } : {}) });
    // a sibling pushed while this agent worked is not in the clone yet
    const revisions = [`origin/${base}`, ...others.map((p) => p.headSha)];
    let trees = await treesOf(git, revisions);
    if (trees.includes(undefined)) {
      await syncClone(github, deps.workspace, { owner: github.owner, repo: github.repo, cloneUrl: job.repository.cloneUrl });
      trees = await treesOf(git, revisions);
    }
    const [baseTree, ...theirTrees] = trees;
    const candidates = await sharingAFile(git, baseTree, others, theirTrees, new Set(change.files)).catch(() => others);
    if (candidates.length === 0) return [];

    const own = changeOf(await git(['diff', '-U0', '--no-color', '--no-ext-diff', `origin/${base}...${headSha}`]));
    const siblings: Sibling[] = [];
    for (const pull of candidates) {
      // one sibling that cannot be read (its head gone since the listing) does not hide the others
      const theirs = changeOf(await git(['diff', '-U0', '--no-color', '--no-ext-diff', `origin/${base}...${pull.headSha}`]).catch(() => ''));
      const shared = [...own.files].filter((f) => theirs.files.has(f)).sort();
      if (shared.length === 0) continue;
      const common = [...own.lines].filter((l) => theirs.lines.has(l)).length;
      const all = new Set([...own.lines, ...theirs.lines]).size;
      siblings.push({ number: pull.number, shared, similarity: all === 0 ? 0 : common / all });
    }
    return siblings.sort((a, b) => b.similarity - a.similarity || a.number - b.number);
  } catch (error) {
    log.warn({ err: error }, 'open agent PRs not compared');
    return [];
  }
}

/** The tree of each revision (undefined: not in the clone), in one `cat-file --batch-check`. */
async function treesOf(git: (args: string[], input?: string) => Promise<string>, revisions: string[]): Promise<Array<string | undefined>> {
  const out = await git(['cat-file', '--batch-check'], revisions.map((r) => `${r}^{tree}\n`).join(''));
  // one line per revision asked: `<id> tree <size>`, or `<revision>^{tree} missing`
  return out.split('\n').slice(0, revisions.length).map((line) => /^([0-9a-f]{40,64}) tree /.exec(line)?.[1]);
}

/**
 * The PRs whose head differs from the base's tip in one of `files`, in one `diff-tree`. A PR whose
 * tree is unknown (its head not in the clone) is kept: its own diff then tells.
 */
async function sharingAFile<P extends { headSha: string }>(
  git: (args: string[], input?: string) => Promise<string>, baseTree: string | undefined, pulls: P[], trees: Array<string | undefined>, files: Set<string>,
): Promise<P[]> {
  if (baseTree === undefined) return pulls;
  const differing = await changedPaths(git, { tree: baseTree }, trees.filter((t): t is string => t !== undefined));
  return pulls.filter((_, i) => trees[i] === undefined || [...(differing.get(trees[i]!) ?? [])].some((f) => files.has(f)));
}

/** The files a zero-context diff changes, and its changed lines, each as `file:+line` or `file:-line`. */
function changeOf(diff: string): { files: Set<string>; lines: Set<string> } {
  const files = new Set<string>();
  const lines = new Set<string>();
  let file = '';
  let inHunks = false;
  for (const line of diff.split('\n')) {
    const header = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (header) {
      file = header[2]!;
      files.add(file);
      inHunks = false;
      continue;
    }
    // before a file's first hunk, `---` and `+++` name it; after, they are removed and added lines
    if (line.startsWith('@@')) inHunks = true;
    else if (inHunks && (line.startsWith('+') || line.startsWith('-'))) lines.add(`${file}:${line}`);
  }
  return { files, lines };
}
