/**
 * What the local GitHub does inside a repository's bare git directory: read refs and files, and merge
 * a PR the way GitHub's merge button does (merge commit, squash or rebase), without a worktree.
 */
import { runGit } from '../../../src/git/run-git.js';

const GITHUB_IDENTITY = {
  GIT_COMMITTER_NAME: 'GitHub',
  GIT_COMMITTER_EMAIL: 'noreply@github.com',
};

export class BareRepo {
  constructor(readonly gitDir: string, private readonly env: Record<string, string>) {}

  private git(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
    return runGit(args, { cwd: this.gitDir, env: { ...this.env, ...extraEnv } }).then((out) => out.trim());
  }

  /** Branch name (without refs/heads/) to sha. */
  async branches(): Promise<Map<string, string>> {
    const out = await this.git(['for-each-ref', '--format=%(refname:lstrip=2) %(objectname)', 'refs/heads']);
    return new Map(out.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
  }

  async sha(branch: string): Promise<string | undefined> {
    const result = await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], {
      cwd: this.gitDir, env: this.env, expectedExitCodes: [1],
    });
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  /** A commit's tree, parents and message. */
  async commit(sha: string): Promise<{ tree: string; parents: string[]; message: string }> {
    const [tree = '', parents = '', message = ''] = (await this.git(['show', '-s', '--format=%T%x00%P%x00%B', sha])).split('\0');
    return { tree, parents: parents.split(' ').filter(Boolean), message };
  }

  async readFile(ref: string, file: string): Promise<Buffer | undefined> {
    const result = await runGit(['cat-file', '-e', `${ref}:${file}`], { cwd: this.gitDir, env: this.env, expectedExitCodes: [1, 128] });
    if (result.code !== 0) return undefined;
    return Buffer.from(await runGit(['show', `${ref}:${file}`], { cwd: this.gitDir, env: this.env }));
  }

  async deleteBranch(branch: string): Promise<boolean> {
    const result = await runGit(['update-ref', '-d', `refs/heads/${branch}`], { cwd: this.gitDir, env: this.env, expectedExitCodes: [1] });
    return result.code === 0;
  }

  /**
   * Merges `headSha` into `base` and moves `base` with a compare-and-swap, as GitHub's merge button.
   * `conflict` when the trees do not merge cleanly; `moved` when `base` changed under the merge.
   */
  async merge(base: string, headSha: string, method: 'merge' | 'squash' | 'rebase', message: string, author: { name: string; email: string }):
  Promise<{ kind: 'merged'; sha: string } | { kind: 'conflict' | 'moved' }> {
    const baseSha = await this.sha(base);
    if (!baseSha) return { kind: 'moved' };
    const identity = { ...GITHUB_IDENTITY, GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email };
    let result: string | undefined;
    if (method === 'rebase') {
      result = baseSha;
      const commits = (await this.git(['rev-list', '--reverse', `${baseSha}..${headSha}`])).split('\n').filter(Boolean);
      for (const commit of commits) {
        // base merged with the branch up to this commit: the tree a rebase reaches at this step
        const tree = await this.mergeTree(baseSha, commit);
        if (!tree) return { kind: 'conflict' };
        const original = await this.git(['show', '-s', '--format=%an%x00%ae%x00%B', commit]);
        const [name = '', email = '', body = ''] = original.split('\0');
        result = await this.git(['commit-tree', tree, '-p', result, '-m', body || 'commit'],
          { ...GITHUB_IDENTITY, GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email });
      }
    } else {
      const tree = await this.mergeTree(baseSha, headSha);
      if (!tree) return { kind: 'conflict' };
      const parents = method === 'merge' ? ['-p', baseSha, '-p', headSha] : ['-p', baseSha];
      result = await this.git(['commit-tree', tree, ...parents, '-m', message], identity);
    }
    const moved = await runGit(['update-ref', `refs/heads/${base}`, result, baseSha], {
      cwd: this.gitDir, env: this.env, expectedExitCodes: [1, 128],
    });
    return moved.code === 0 ? { kind: 'merged', sha: result } : { kind: 'moved' };
  }

  private async mergeTree(ours: string, theirs: string): Promise<string | undefined> {
    const result = await runGit(['merge-tree', '--write-tree', ours, theirs], { cwd: this.gitDir, env: this.env, expectedExitCodes: [1] });
    return result.code === 0 ? result.stdout.split('\n')[0]!.trim() : undefined;
  }
}
