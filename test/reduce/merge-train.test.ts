/**
 * Merge trains at the pipeline level: GitHub is the in-memory port, git is real (a bare remote on
 * disk that GitHub's squash merges and branch deletions are carried out on), and CI is played by
 * the test: it "runs" on each new train branch and fails when the tree holds a marker file.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/parse-config.js';
import { ORDER_CHECK, TRAIN_FAILED_LABEL } from '../../src/names.js';
import type { ReduceDeps, ReducePass, ReduceReport } from '../../src/reduce/reduce-pass.js';
import { runReducePass } from '../../src/reduce/run-reduce-pass.js';
import { createGitSandbox, type GitSandbox } from '../support/git-sandbox.js';
import type { MemoryGitHub } from '../support/memory-github.js';
import { reduceOnMemory } from '../support/memory-reduce.js';

let git: GitSandbox;
let github: MemoryGitHub;
let deps: ReduceDeps;
let ciRuns: Array<{ branch: string; files: string[]; passed: boolean }>;

beforeEach(async () => {
  git = await createGitSandbox();
  await git.commitToRemote('main', { 'README.md': '# app\n' }, 'Seed');
  ({ github, deps } = await reduceOnMemory(git));
  ciRuns = [];
});

afterEach(async () => {
  await git.cleanup();
});

function passWith(reduce: Record<string, unknown>): ReducePass {
  const config = parseConfig({ reduce });
  if (!config.ok) throw new Error('config');
  return { github, repository: { defaultBranch: 'main', cloneUrl: git.remoteUrl }, baseRef: 'main', config: config.config, log: pino({ level: 'silent' }) };
}

/** An approved agent PR adding one file, its own head's checks green. */
async function approvedPull(number: number, file: string): Promise<void> {
  const branch = `agent/issue-${number - 100}-change`;
  const sha = await git.commitToRemote(branch, { [file]: `${file}\n` }, `Add ${file}`);
  github.addPull({ number, headRef: branch, headSha: sha, title: `Add ${file}` });
  github.checks.set(sha, 'success');
  github.review(number, { author: 'maintainer', state: 'APPROVED' });
}

/**
 * CI on every train branch it has not seen yet: red when the tree holds `broken.txt`, with a failure
 * annotation on each of `annotate` when given (as a linter names the files it fails).
 */
async function runCi(annotate: string[] = []): Promise<void> {
  for (const branch of await git.remoteBranches()) {
    if (!branch.startsWith('agent-mapreduce/train/')) continue;
    const sha = await git.git(git.remoteUrl, 'rev-parse', `refs/heads/${branch}`);
    if (github.checks.has(sha)) continue;
    const files = (await git.git(git.remoteUrl, 'ls-tree', '-r', '--name-only', sha)).split('\n');
    const passed = !files.includes('broken.txt');
    github.checks.set(sha, passed ? 'success' : 'failure');
    github.failedChecks.set(sha, ['ci/test']);
    if (!passed && annotate.length > 0) {
      const id = 1_000 + ciRuns.length;
      github.checkStates.set(sha, [{ name: 'ci/test', source: { kind: 'check-run', id, actions: true }, state: 'failure', title: 'Failed', summary: '', annotations: annotate.length }]);
      github.annotations.set(id, annotate.map((path) => ({ path, line: 1, level: 'failure', title: 'rule', message: 'breaks the rule', details: '' })));
    }
    ciRuns.push({ branch, files, passed });
  }
}

/** Passes, each followed by CI, until a pass changes nothing. */
async function settle(pass: ReducePass, annotate: string[] = []): Promise<ReduceReport[]> {
  const reports: ReduceReport[] = [];
  for (let i = 0; i < 20; i++) {
    const before = `${github.writes.length} ${(await git.remoteBranches()).join(',')}`;
    // as GitHub does: a PR's head is where its branch is now (the app's own rebase moves it)
    for (const pull of github.pulls.values()) if (pull.open) pull.headSha = await github.headOf!(pull);
    reports.push(await runReducePass(deps, pass));
    await runCi(annotate);
    if (`${github.writes.length} ${(await git.remoteBranches()).join(',')}` === before) return reports;
  }
  throw new Error('the passes never settled');
}

const merges = () => github.writes.filter((w) => w.startsWith('merge PR')).map((w) => Number(w.slice('merge PR #'.length)));

describe('merge trains', () => {
  it('tests a batch of approved PRs once, then merges each with its head as the guard, and leaves the base as CI tested it', async () => {
    for (let n = 101; n <= 104; n++) await approvedPull(n, `f${n}.txt`);
    const pass = passWith({ batchSize: 10 });

    const first = await runReducePass(deps, pass);

    expect(first.merged).toEqual([]);
    expect(await git.remoteBranches()).toContain('agent-mapreduce/train/main/1');
    expect(first.waiting).toContainEqual({ number: 101, reason: expect.stringMatching(/^in train 1 with #102, #103, #104; /) });
    expect(github.checkRuns.filter((r) => r.name === ORDER_CHECK && r.headSha === github.pulls.get(102)!.headSha).at(-1)?.title)
      .toMatch(/^Waiting: in train 1 with #101, #103, #104/);
    const trainSha = await git.git(git.remoteUrl, 'rev-parse', 'refs/heads/agent-mapreduce/train/main/1');
    expect(await git.git(git.remoteUrl, 'log', '-1', '--format=%B', trainSha)).toContain('Agent-Mapreduce-Pull: 104 ');

    // no check at all, long after the push (the sandbox's commits are dated 2024): CI may not run on train branches
    const silent = await runReducePass(deps, pass);
    expect(silent.merged).toEqual([]);
    expect(silent.waiting).toContainEqual({
      number: 101, reason: 'in train 1 with #102, #103, #104; no check has started on `agent-mapreduce/train/main/1`: does CI run on pushes to `agent-mapreduce/train/**`?',
    });

    // CI still running: nothing moves
    github.checks.set(trainSha, 'pending');
    expect((await runReducePass(deps, pass)).merged).toEqual([]);

    github.checks.set(trainSha, 'success');
    const landed = await runReducePass(deps, pass);

    expect(landed.merged).toEqual([101, 102, 103, 104]);
    expect(await git.git(git.remoteUrl, 'rev-parse', 'main^{tree}')).toBe(await git.git(git.remoteUrl, 'rev-parse', `${trainSha}^{tree}`));
    expect(await git.remoteBranches()).toEqual(['main']);
    expect(github.writes.filter((w) => !w.startsWith('check run'))).toEqual([
      'merge PR #101', 'delete agent/issue-1-change', 'merge PR #102', 'delete agent/issue-2-change',
      'merge PR #103', 'delete agent/issue-3-change', 'merge PR #104', 'delete agent/issue-4-change', 'delete agent-mapreduce/train/main/1',
    ]);
  });

  it('bisects a red train: the PR that breaks it is named and left out, the others merge', async () => {
    for (let n = 101; n <= 108; n++) await approvedPull(n, n === 106 ? 'broken.txt' : `f${n}.txt`);

    await settle(passWith({ batchSize: 10 }));

    expect(merges().sort()).toEqual([101, 102, 103, 104, 105, 107, 108]);
    expect(github.pulls.get(106)!.labels).toContain(TRAIN_FAILED_LABEL);
    const comment = github.comments.get(106)?.at(-1)?.body ?? '';
    expect(comment).toContain('❌ **Fails `ci/test` on top of `main`**');
    expect(comment).toContain('failed with it, and the others passed without it');
    // 8 PRs, one broken: the whole batch; then two trains whose colours spell the culprit's code
    // (index mod 4): without #102 #104 #106 #108 (green: lands #101 #103 #105 #107) and without #103
    // #104 #107 #108 (red: the culprit is #102 or #106); then without #102 (red) and without #106
    // (green: lands #102 #104 #108, and #106 is the one). 5 runs in 3 rounds; halving takes 7 in 4.
    const held = (run: { files: string[] }) => run.files.filter((f) => /^(f\d+|broken)\.txt$/.test(f)).length;
    expect(ciRuns.map((r) => [held(r), r.passed])).toEqual([[8, false], [4, true], [4, false], [7, false], [7, true]]); // the last round on top of the four landed
    expect(await git.readRemoteFile('main', 'f108.txt')).toBe('f108.txt\n');
    expect(github.writes).not.toContain('merge PR #106');
  });

  it('tests first without the PR whose file the failure annotations name, and lands the others a round sooner', async () => {
    for (let n = 101; n <= 108; n++) await approvedPull(n, n === 106 ? 'broken.txt' : `f${n}.txt`);

    // the check names the PR's file, and README.md, which no PR changed: that one is passed over
    await settle(passWith({ batchSize: 10 }), ['broken.txt', 'README.md']);

    expect(merges().sort()).toEqual([101, 102, 103, 104, 105, 107, 108]);
    expect(github.pulls.get(106)!.labels).toContain(TRAIN_FAILED_LABEL);
    expect(github.comments.get(106)?.at(-1)?.body).toContain('passed without it');
    // the whole batch; then without #106 (green: the seven land), beside the two binary trains: 4 runs in 2 rounds
    const held = (run: { files: string[] }) => run.files.filter((f) => /^(f\d+|broken)\.txt$/.test(f)).length;
    expect(ciRuns.map((r) => [held(r), r.passed])).toEqual([[8, false], [7, true], [4, true], [4, false]]);
    expect(github.writes).not.toContain('merge PR #106');
  });

  it('points at nobody when the annotated files belong to two PRs of the batch: the bisection alone finds it, in 5 runs as before', async () => {
    for (let n = 101; n <= 108; n++) await approvedPull(n, n === 106 ? 'broken.txt' : `f${n}.txt`);
    // #103 gets a second commit, on another file the failing check names
    const both = await git.commitToRemote('agent/issue-3-change', { 'broken.txt.orig': 'x\n' }, 'Also');
    github.pulls.get(103)!.headSha = both;
    github.checks.set(both, 'success');
    github.review(103, { author: 'maintainer', state: 'APPROVED' });

    await settle(passWith({ batchSize: 10 }), ['broken.txt', 'broken.txt.orig']);

    expect(merges().sort()).toEqual([101, 102, 103, 104, 105, 107, 108]);
    expect(ciRuns).toHaveLength(5);
  });

  it('bisects by colours alone when the failing checks cannot be read: the pointer is a guess, never a stop', async () => {
    for (let n = 101; n <= 108; n++) await approvedPull(n, n === 106 ? 'broken.txt' : `f${n}.txt`);
    github.listChecks = () => Promise.reject(Object.assign(new Error('Server Error'), { status: 500 }));

    await settle(passWith({ batchSize: 10 }), ['broken.txt']);

    expect(merges().sort()).toEqual([101, 102, 103, 104, 105, 107, 108]);
    expect(github.pulls.get(106)!.labels).toContain(TRAIN_FAILED_LABEL);
    expect(ciRuns).toHaveLength(5);
  });

  it('abandons a train when someone pushes to the base, merges nothing from it, and builds the next on the new base', async () => {
    await approvedPull(101, 'a.txt');
    await approvedPull(102, 'b.txt');
    const pass = passWith({});
    await runReducePass(deps, pass);
    const trainSha = await git.git(git.remoteUrl, 'rev-parse', 'refs/heads/agent-mapreduce/train/main/1');
    const human = await git.commitToRemote('main', { 'human.txt': 'pushed by hand\n' }, 'A human push');
    github.checks.set(trainSha, 'success');

    const report = await runReducePass(deps, pass);

    expect(report.merged).toEqual([]);
    expect(github.writes.filter((w) => w.startsWith('merge'))).toEqual([]);
    expect(github.deletedBranches).toEqual(['agent-mapreduce/train/main/1']);
    const next = await git.git(git.remoteUrl, 'log', '-1', '--format=%B', 'refs/heads/agent-mapreduce/train/main/2');
    expect(next).toContain(`Agent-Mapreduce-Base: ${human}`);
  });

  it('blames nobody for a check the base fails too', async () => {
    await approvedPull(101, 'broken.txt');
    await approvedPull(102, 'b.txt');
    const baseSha = await git.git(git.remoteUrl, 'rev-parse', 'refs/heads/main');
    github.checks.set(baseSha, 'failure');
    github.failedChecks.set(baseSha, ['ci/test']);
    const pass = passWith({});

    await runReducePass(deps, pass);
    await runCi();
    const report = await runReducePass(deps, pass);

    expect(report.merged).toEqual([]);
    expect(github.writes.filter((w) => w.startsWith('label') || w.startsWith('comment'))).toEqual([]);
    expect(report.waiting).toContainEqual({ number: 101, reason: 'train 1 fails `ci/test`, which `main` fails too; waiting for the base to be fixed' });
  });

  it('merges a lone PR already on the base tip without a train: its own checks tested exactly that', async () => {
    await approvedPull(101, 'a.txt');

    const report = await runReducePass(deps, passWith({}));

    expect(report.merged).toEqual([101]);
    expect(await git.remoteBranches()).toEqual(['main']);
  });

  it('builds no train where the PRs have no checks at all: there is no CI to run on it', async () => {
    await approvedPull(101, 'a.txt');
    await approvedPull(102, 'b.txt');
    for (const pull of github.pulls.values()) github.checks.delete(pull.headSha);

    await settle(passWith({}));

    expect(merges()).toEqual([101, 102]);
    expect(ciRuns).toEqual([]);
  });

  it('says so when the base after the merges is not the tree CI tested', async () => {
    await approvedPull(101, 'a.txt');
    await approvedPull(102, 'b.txt');
    const pass = passWith({});
    await runReducePass(deps, pass);
    await runCi();
    // GitHub's merge of #102 brings something the train did not have
    const merge = github.onMerge!;
    github.onMerge = async (pull) => {
      const sha = await merge(pull);
      return pull.number === 102 ? git.commitToRemote('main', { 'surprise.txt': 'not tested\n' }, 'Something else') : sha;
    };

    const report = await runReducePass(deps, pass);

    expect(report.merged).toEqual([101, 102]);
    expect(github.comments.get(102)?.at(-1)?.body).toContain('⚠️ **`main` differs from what CI tested.** After merging train 1 (#101, #102)');
  });
});
