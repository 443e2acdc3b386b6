import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGit } from '../../src/git/run-git.js';

export interface RemoteCommit {
  sha: string;
  subject: string;
  body: string;
  authorName: string;
  authorEmail: string;
}

/** A temp folder whose bare repository `remote.git` stands in for the repository on GitHub. */
export interface GitSandbox {
  root: string;
  /** Where the remote lives; use it as the clone URL. */
  remoteUrl: string;
  /** Shuts out the machine's git config and fixes identities and dates. */
  gitEnv: Record<string, string>;
  /** Trimmed stdout. */
  git(cwd: string, ...args: string[]): Promise<string>;
  /** Commits onto `branch` (created from main if new) and pushes it; null deletes a file. Returns the new sha. */
  commitToRemote(branch: string, files: Record<string, string | null>, message: string): Promise<string>;
  readRemoteFile(ref: string, file: string): Promise<string>;
  /** Newest first. */
  remoteLog(ref: string): Promise<RemoteCommit[]>;
  /** Branch names without `refs/heads/`, sorted. */
  remoteBranches(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export const SANDBOX_AUTHOR = { name: 'Sandbox Author', email: 'author@sandbox.example' };

/** `remote`: an existing bare repository to use (e.g. the local GitHub's) instead of a new one with an initial commit. */
export async function createGitSandbox(options: { remote?: string } = {}): Promise<GitSandbox> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'git-sandbox-')));
  const remote = options.remote ?? path.join(root, 'remote.git');
  const scratch = path.join(root, 'scratch');
  const home = path.join(root, 'home');
  await fs.mkdir(home);
  const gitEnv: Record<string, string> = {
    HOME: home,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
    GIT_AUTHOR_NAME: SANDBOX_AUTHOR.name,
    GIT_AUTHOR_EMAIL: SANDBOX_AUTHOR.email,
    GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
    GIT_COMMITTER_NAME: SANDBOX_AUTHOR.name,
    GIT_COMMITTER_EMAIL: SANDBOX_AUTHOR.email,
    GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
  };
  // the test's own clones and pushes reach the remote by path; the app's git allows no transport by default
  const git = async (cwd: string, ...args: string[]) => (await runGit(args, { cwd, env: { ...gitEnv, GIT_ALLOW_PROTOCOL: 'file' } })).trim();

  const writeFiles = async (files: Record<string, string | null>) => {
    for (const [file, content] of Object.entries(files)) {
      const full = path.join(scratch, file);
      if (content === null) {
        await fs.rm(full, { force: true });
      } else {
        await fs.mkdir(path.dirname(full), { recursive: true });
        await fs.writeFile(full, content);
      }
    }
  };
  const commitAndPush = async (branch: string, message: string) => {
    await git(scratch, 'add', '-A');
    await git(scratch, 'commit', '--quiet', '--allow-empty', '-m', message);
    await git(scratch, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    return git(scratch, 'rev-parse', 'HEAD');
  };

  if (!options.remote) await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  await git(root, 'init', '--quiet', '--initial-branch=main', scratch);
  await git(scratch, 'remote', 'add', 'origin', remote);
  if (!options.remote) {
    await writeFiles({ 'README.md': '# Sandbox\n', 'src/app.txt': 'hello\n' });
    await commitAndPush('main', 'Initial commit');
  }

  return {
    root,
    remoteUrl: remote,
    gitEnv,
    git,
    async commitToRemote(branch, files, message) {
      await git(scratch, 'fetch', '--quiet', '--prune', 'origin');
      const known = await runGit(['rev-parse', '--quiet', '--verify', `refs/remotes/origin/${branch}`], {
        cwd: scratch, env: gitEnv, expectedExitCodes: [1],
      });
      await git(scratch, 'checkout', '--quiet', '-B', branch, known.code === 0 ? `origin/${branch}` : 'origin/main');
      await writeFiles(files);
      return commitAndPush(branch, message);
    },
    async readRemoteFile(ref, file) {
      return runGit(['show', `${ref}:${file}`], { cwd: remote, env: gitEnv });
    },
    async remoteLog(ref) {
      const out = await runGit(['log', '--format=%H%x00%s%x00%b%x00%an%x00%ae%x1e', ref], { cwd: remote, env: gitEnv });
      return out.split('\x1e').map((record) => record.trim()).filter((record) => record !== '').map((record) => {
        const [sha = '', subject = '', body = '', authorName = '', authorEmail = ''] = record.split('\0');
        return { sha, subject, body: body.trim(), authorName, authorEmail };
      });
    },
    async remoteBranches() {
      const out = await git(remote, 'for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads');
      return out.split('\n').filter((name) => name !== '').sort();
    },
    async cleanup() {
      // retried: a git that was still tidying up in the background may add a file while we delete
      await fs.rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}
