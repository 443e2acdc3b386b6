import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import pLimit from 'p-limit';
import type { Logger } from '../log.js';
import { authEnv } from './auth-env.js';
import { KeyedMutex } from './keyed-mutex.js';
import { configText, forbiddenKeysIn } from './clone-config.js';
import { pushToRemote, SecretInPushError, secretsInNewCommits, type PushOptions, type PushOutcome } from './push-to-remote.js';
import { protocolOf, refuseCredentialsInUrl } from './remote-url.js';
import { type Secret } from './find-secrets.js';
import { forgetWorktree, recordWorktree, runGit } from './run-git.js';
import { isAppBranch } from '../names.js';
import { exists, gitDirOf, ignoreGitError, listClones, removeLockFiles, segment } from './work-dir.js';
import type { RemoteRepo, RepoRef, Worktree, WorktreeSpec } from './worktree.js';
import { headSha } from './worktree-git.js';

/** Keyed by the clone's folder, so two Workspace objects on one work directory still take turns. */
const cloneLocks = new KeyedMutex();
/** Full checkouts under way at once, across repositories: more than the cores only thrash the disk. */
const checkouts = pLimit(Math.max(1, os.availableParallelism()));

/**
 * Cached bare clones (`<workDir>/repos/<owner>/<repo>.git`, fetching `refs/heads/*` into
 * `refs/remotes/origin/*`) and one worktree per job (`<workDir>/worktrees/<owner>/<repo>/<name>`).
 * Everything that writes into a clone runs under that clone's lock: concurrent fetches and
 * worktree adds on one repository corrupt its refs and config otherwise.
 */
export class Workspace {
  private readonly workDir: string;
  private readonly log: Logger;
  private readonly env: Record<string, string>;
  /** Clone URLs as GitHub gave them at the last sync, by clone folder; pushes go there. */
  private readonly cloneUrls = new Map<string, string>();
  /**
   * Clones made ready here (`init` and the origin's URL), by folder: each one's URL and its config
   * file's text then. Each start of git costs a fork, so a sync of an unchanged clone only fetches.
   */
  private readonly setUp = new Map<string, { url: string; config: string | undefined }>();
  /** Worktrees finished jobs handed back, by clone folder, ready for the next job. */
  private readonly idle = new Map<string, string[]>();
  private readonly maxIdleWorktrees: number;
  /** The app's own secrets: a push whose commits hold one is refused. */
  private readonly secrets: readonly Secret[];
  /** Worktrees handed to a job and not yet given back. */
  private readonly inUse = new Set<string>();
  /** Adds wait for the start-up clean-up, which deletes the worktrees folder. */
  private startupCleaning: Promise<void> = Promise.resolve();

  /** `env` is added to every git command's environment (tests use it to shut out the machine's git config). */
  constructor({ workDir, log, env = {}, maxIdleWorktrees = 8, secrets = [] }: {
    workDir: string;
    log: Logger;
    env?: Record<string, string>;
    secrets?: readonly Secret[];
    /** Idle worktrees kept per repository for reuse; 0 removes every worktree when its job ends. */
    maxIdleWorktrees?: number;
  }) {
    this.workDir = path.resolve(workDir);
    this.maxIdleWorktrees = maxIdleWorktrees;
    this.secrets = secrets;
    this.log = log;
    this.env = env;
  }

  cloneDir(repo: RepoRef): string {
    return path.join(this.workDir, 'repos', segment(repo.owner), `${segment(repo.repo)}.git`);
  }

  worktreeDir(repo: RepoRef, name: string): string {
    return path.join(this.workDir, 'worktrees', segment(repo.owner), segment(repo.repo), segment(name));
  }

  /** Creates the cached clone, or fetches into it (pruning deleted branches). Tags are not fetched. */
  async sync(repo: RemoteRepo, token?: string): Promise<void> {
    refuseCredentialsInUrl(repo.cloneUrl);
    const clone = this.cloneDir(repo);
    const auth = authEnv(token, repo.cloneUrl);
    this.cloneUrls.set(clone, repo.cloneUrl);
    await cloneLocks.run(clone, async () => {
      let config = await configText(clone);
      const forbidden = await forbiddenKeysIn(clone, config);
      if (forbidden.length > 0) {
        await this.rebuild(clone, forbidden);
        config = undefined;
      }
      const fresh = !(await exists(clone));
      try {
        // a clone this process set up for this URL, whose config nothing has written since, only fetches
        if (!this.setUpAsIs(clone, repo.cloneUrl, config)) {
          await fs.mkdir(clone, { recursive: true });
          await this.git(['init', '--bare', '--quiet'], clone);
          await this.pointOriginAt(clone, repo.cloneUrl);
          this.setUp.set(clone, { url: repo.cloneUrl, config: await configText(clone) });
        }
        await this.git(['fetch', '--prune', '--no-tags', '--quiet', 'origin'], clone, auth, repo.cloneUrl);
      } catch (error) {
        // A clone that never completed its first fetch would look cached next time.
        if (fresh) await fs.rm(clone, { recursive: true, force: true });
        throw error;
      }
      this.log.debug({ owner: repo.owner, repo: repo.repo, created: fresh }, 'git: cached clone synced');
    });
  }

  /** Whether this process set the clone up for `repo`'s URL (then `matches` may find a fetch needless). */
  setUpHere(repo: RemoteRepo): boolean {
    return this.setUp.get(this.cloneDir(repo))?.url === repo.cloneUrl;
  }

  /**
   * Whether a fetch now would change nothing: the clone is one this process set up for `repo`'s URL,
   * its config is unchanged since, and its remote branches are exactly `heads` (GitHub's, each with
   * its tip). A fetch is a token, two round trips to the git server and several programs; this is one
   * program.
   */
  async matches(repo: RemoteRepo, heads: Map<string, string>): Promise<boolean> {
    const clone = this.cloneDir(repo);
    return cloneLocks.run(clone, async () => {
      if (!this.setUpAsIs(clone, repo.cloneUrl, await configText(clone))) return false;
      const local = await this.remoteBranches(repo, '');
      return local.length === heads.size && local.every(({ branch, sha }) => heads.get(branch) === sha);
    });
  }

  /** The clone was set up here for `url`, and its config's text is still what it was then. */
  private setUpAsIs(clone: string, url: string, config: string | undefined): boolean {
    const setUp = this.setUp.get(clone);
    return config !== undefined && setUp?.url === url && setUp.config === config;
  }

  /**
   * A worktree with `branch` reset to `startPoint`. It reuses a worktree a finished job handed back
   * (`recycleWorktree`) when there is one: switching it to the new start point rewrites only the
   * files that differ, where a fresh checkout of a large repository writes every file. Otherwise it
   * adds one named `spec.name`, replacing any leftover folder of that name.
   */
  async addWorktree(repo: RepoRef, spec: WorktreeSpec): Promise<Worktree> {
    await this.startupCleaning;
    const clone = this.cloneDir(repo);
    const worktree = (dir: string) => ({ dir, branch: spec.branch, owner: repo.owner, repo: repo.repo, cloneDir: clone });
    // Switching touches only that worktree's files, index and HEAD and its own branch, so jobs
    // starting together switch side by side instead of one after another under the clone's lock.
    for (let dir = this.takeIdle(clone); dir !== undefined; dir = this.takeIdle(clone)) {
      try {
        // wiped when it was handed back, and untouched since: switching rewrites only what differs
        await this.git(['checkout', '--quiet', '--force', '--no-track', '-B', spec.branch, spec.startPoint], dir);
        this.log.debug({ owner: repo.owner, repo: repo.repo, dir, branch: spec.branch }, 'git: idle worktree reused');
        return worktree(dir);
      } catch {
        await cloneLocks.run(clone, () => this.discardWorktree(clone, dir)).catch(ignoreGitError);
        this.inUse.delete(dir);
      }
    }
    const dir = await cloneLocks.run(clone, async () => {
      const fresh = this.freeWorktreeDir(repo, spec.name);
      if (await exists(fresh)) await this.discardWorktree(clone, fresh); // left over from a crashed run
      await this.git(['worktree', 'add', '--quiet', '--no-checkout', '--no-track', '-B', spec.branch, fresh, spec.startPoint], clone);
      // read once, now, before any command ran in the worktree; never again
      recordWorktree(fresh, { gitDir: await gitDirOf(fresh), cloneDir: clone });
      this.inUse.add(fresh);
      return fresh;
    });
    // A full checkout writes only this worktree's files and index, so it need not hold the clone's
    // lock, which would serialise every job's start behind it.
    try {
      await checkouts(() => this.git(['reset', '--quiet', '--hard'], dir));
    } catch (error) {
      await this.removeWorktree(worktree(dir)).catch(ignoreGitError);
      throw error;
    }
    this.log.debug({ owner: repo.owner, repo: repo.repo, dir, branch: spec.branch }, 'git: worktree added');
    return worktree(dir);
  }

  /**
   * Hands a finished job's worktree back for the next job of the repository: every file the job
   * left (ignored ones included) is wiped, HEAD is detached and the job's local branch deleted.
   * Beyond `maxIdleWorktrees` per repository, or if wiping fails, the worktree is removed instead.
   */
  async recycleWorktree(worktree: Worktree): Promise<void> {
    const clone = this.cloneDir(worktree);
    // the wipe touches only this worktree's files, HEAD and index: other jobs need not wait for it
    // (the folder stays in use until it is idle or gone, so that no new worktree takes its name)
    const wiped = await this.git(['checkout', '--quiet', '--force', '--detach'], worktree.dir)
      .then(() => this.git(['clean', '--quiet', '-ffdx'], worktree.dir)).then(() => true, () => false);
    await cloneLocks.run(clone, async () => {
      const idle = this.idle.get(clone) ?? [];
      const keep = wiped && idle.length < this.maxIdleWorktrees;
      if (keep) this.idle.set(clone, [...idle, worktree.dir]);
      else await this.discardWorktree(clone, worktree.dir);
      this.inUse.delete(worktree.dir);
      // after the discard: a worktree that could not be wiped still has the branch checked out
      await this.git(['branch', '--quiet', '-D', worktree.branch], clone).catch(ignoreGitError);
    });
  }

  /**
   * The folder for a new worktree: `name`, or `name-2`, `name-3`… when a worktree in use or kept
   * idle already has that name (a recycled worktree keeps the name of the job that made it).
   */
  private freeWorktreeDir(repo: RepoRef, name: string): string {
    const taken = (dir: string) => this.inUse.has(dir) || [...this.idle.values()].some((dirs) => dirs.includes(dir));
    let dir = this.worktreeDir(repo, name);
    for (let n = 2; taken(dir); n++) dir = this.worktreeDir(repo, `${name}-${n}`);
    return dir;
  }

  /** An idle worktree of the clone, now counted as in use (so no new worktree takes its name); undefined if none. */
  private takeIdle(clone: string): string | undefined {
    const dir = this.idle.get(clone)?.pop();
    if (dir !== undefined) this.inUse.add(dir);
    return dir;
  }

  /** Removes the worktree, its folder and its local branch in the cached clone. Idempotent. */
  async removeWorktree(worktree: Worktree): Promise<void> {
    const clone = this.cloneDir(worktree);
    this.inUse.delete(worktree.dir);
    await cloneLocks.run(clone, async () => {
      const idle = this.idle.get(clone);
      if (idle?.includes(worktree.dir)) idle.splice(idle.indexOf(worktree.dir), 1);
      if (!(await exists(clone))) {
        await fs.rm(worktree.dir, { recursive: true, force: true });
        return;
      }
      await this.discardWorktree(clone, worktree.dir);
      // Fails harmlessly when the branch is gone or another worktree has it checked out.
      await this.git(['branch', '--quiet', '-D', worktree.branch], clone).catch(ignoreGitError);
    });
    this.log.debug({ owner: worktree.owner, repo: worktree.repo, dir: worktree.dir }, 'git: worktree removed');
  }

  /**
   * At start-up every worktree is a leftover: removes them all, prunes their records and clears
   * lock files a killed git left behind in the clones. Never touches the clones' objects.
   */
  cleanStartup(): Promise<void> {
    this.startupCleaning = this.removeLeftovers();
    return this.startupCleaning;
  }

  private async removeLeftovers(): Promise<void> {
    this.idle.clear();
    await fs.rm(path.join(this.workDir, 'worktrees'), { recursive: true, force: true });
    for (const clone of await listClones(this.workDir)) {
      await cloneLocks.run(clone, async () => {
        await removeLockFiles(clone);
        await this.git(['worktree', 'prune'], clone);
      });
    }
    this.log.info({ workDir: this.workDir }, 'git: leftover worktrees cleared');
  }

  /**
   * Pushes the worktree's HEAD to `refs/heads/<branch>` on origin (the URL GitHub gave at the last
   * sync); only the app’s own branches. A stale lease or a non-fast-forward is a `rejected` outcome; a
   * push whose new commits hold one of the app's secrets throws SecretInPushError.
   */
  async push(worktree: Worktree, options: PushOptions = {}): Promise<PushOutcome> {
    if (!isAppBranch(worktree.branch)) {
      throw new Error(`refusing to push ${worktree.branch}: only the app's own branches (agent/…, agent-mapreduce/train/…) are pushed`);
    }
    const clone = this.cloneDir(worktree);
    const remoteUrl = this.cloneUrls.get(clone);
    if (!remoteUrl) throw new Error(`push before sync: no clone URL known for ${worktree.owner}/${worktree.repo}`);
    const where = { owner: worktree.owner, repo: worktree.repo, branch: worktree.branch };
    const sha = await headSha(worktree.dir, { env: this.env });
    const secrets = options.token ? [...this.secrets, { name: 'the installation token', value: options.token }] : this.secrets;
    const found = await secretsInNewCommits(worktree.dir, sha, secrets, this.env);
    if (found.length > 0) {
      this.log.error({ ...where, secrets: found }, 'git: push refused, it holds the app\'s secrets');
      throw new SecretInPushError(found);
    }
    return cloneLocks.run(clone, async () => {
      const outcome = await pushToRemote({ dir: worktree.dir, env: this.env, remoteUrl, branch: worktree.branch, sha, ...options });
      if (outcome.kind === 'pushed') {
        await this.git(['update-ref', `refs/remotes/origin/${worktree.branch}`, sha], clone);
        this.log.info({ ...where, sha }, 'git: pushed');
      } else {
        this.log.info({ ...where, reason: outcome.reason }, 'git: push rejected');
      }
      return outcome;
    });
  }

  /** The remote branches whose names start with `prefix`, with their tips, as the cached clone last saw them. */
  async remoteBranches(repo: RepoRef, prefix: string): Promise<Array<{ branch: string; sha: string }>> {
    const out = await this.git(['for-each-ref', '--format=%(objectname) %(refname)', `refs/remotes/origin/${prefix}`], this.cloneDir(repo));
    return out.split('\n').filter(Boolean).map((line) => {
      const [sha = '', ref = ''] = line.split(' ');
      return { sha, branch: ref.slice('refs/remotes/origin/'.length) };
    }).filter(({ branch }) => branch.startsWith(prefix));
  }

  /** Where the cached clone last saw `branch` on the remote (last sync or push); null if it did not exist then. */
  async remoteBranchSha(repo: RepoRef, branch: string): Promise<string | null> {
    const result = await runGit(['rev-parse', '--quiet', '--verify', `refs/remotes/origin/${branch}^{commit}`], {
      cwd: this.cloneDir(repo), env: this.env, expectedExitCodes: [1],
    });
    return result.code === 0 ? result.stdout.trim() : null;
  }

  private async pointOriginAt(clone: string, cloneUrl: string): Promise<void> {
    const current = await runGit(['config', '--get', 'remote.origin.url'], { cwd: clone, env: this.env, expectedExitCodes: [1] });
    if (current.code === 1) await this.git(['remote', 'add', 'origin', cloneUrl], clone);
    else if (current.stdout.trim() !== cloneUrl) await this.git(['remote', 'set-url', 'origin', cloneUrl], clone);
  }

  /**
   * Call under the clone's lock. A clone whose config holds a key the app never writes is thrown
   * away with its worktrees: whatever wrote the key may have planted more.
   */
  private async rebuild(clone: string, forbidden: string[]): Promise<void> {
    this.log.warn({ clone, keys: forbidden }, 'git: the cached clone\'s config holds keys the app never writes; rebuilding the clone');
    for (const dir of this.idle.get(clone) ?? []) forgetWorktree(dir);
    this.idle.delete(clone);
    this.setUp.delete(clone);
    await fs.rm(clone, { recursive: true, force: true });
  }

  /** Call under the clone's lock. */
  private async discardWorktree(clone: string, dir: string): Promise<void> {
    forgetWorktree(dir);
    // Twice --force: also removes a worktree that is locked or has changes.
    await this.git(['worktree', 'remove', '--force', '--force', dir], clone).catch(ignoreGitError);
    await fs.rm(dir, { recursive: true, force: true });
    // a clone git cannot read (a broken config) keeps the record of the folder until its sync rebuilds it
    await this.git(['worktree', 'prune'], clone).catch(ignoreGitError);
  }

  /** `remoteUrl`: the one transport this call may use is that remote's. */
  private async git(args: string[], cwd: string, auth?: { env: Record<string, string>; secrets: string[] }, remoteUrl?: string): Promise<string> {
    const transport: Record<string, string> = remoteUrl ? { GIT_ALLOW_PROTOCOL: protocolOf(remoteUrl) } : {};
    return runGit(args, { cwd, env: { ...this.env, ...auth?.env, ...transport }, secrets: auth?.secrets ?? [] });
  }
}

