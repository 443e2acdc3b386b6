/**
 * The reduce pass at the pipeline level: GitHub is the in-memory port, git is real. GitHub's squash
 * merges and branch deletions are carried out on the sandbox's bare remote, and a PR's head is read
 * from it, as GitHub would.
 */
import path from 'node:path';
import { pino } from 'pino';
import { MarkedComments } from '../../src/github/marked-comment.js';
import { PermissionCache } from '../../src/github/permission-cache.js';
import { Workspace } from '../../src/git/workspace.js';
import { NO_PROFILE } from '../../src/profile/profile-event.js';
import type { ReduceDeps } from '../../src/reduce/reduce-pass.js';
import type { GitSandbox } from './git-sandbox.js';
import { MemoryGitHub } from './memory-github.js';

export async function reduceOnMemory(git: GitSandbox): Promise<{ github: MemoryGitHub; deps: ReduceDeps }> {
  const github = new MemoryGitHub('octo', 'app');
  github.permissions.set('maintainer', 'write');
  const scratch = path.join(git.root, 'merger');
  await git.git(git.root, 'clone', '--quiet', git.remoteUrl, scratch);
  github.onMerge = async (pull) => {
    await git.git(scratch, 'fetch', '--quiet', 'origin');
    await git.git(scratch, 'checkout', '--quiet', '-B', 'main', 'origin/main');
    await git.git(scratch, 'merge', '--quiet', '--squash', pull.headSha);
    await git.git(scratch, 'commit', '--quiet', '-m', `${pull.title} (#${pull.number})`);
    await git.git(scratch, 'push', '--quiet', 'origin', 'HEAD:main');
    return git.git(scratch, 'rev-parse', 'HEAD');
  };
  github.onDeleteBranch = (branch) => git.git(git.remoteUrl, 'update-ref', '-d', `refs/heads/${branch}`);
  github.headOf = (pull) => git.git(git.remoteUrl, 'rev-parse', `refs/heads/${pull.headRef}`);
  const deps: ReduceDeps = {
    workspace: new Workspace({ workDir: path.join(git.root, 'work'), log: pino({ level: 'silent' }), env: git.gitEnv }),
    comments: new MarkedComments(42),
    permissions: new PermissionCache(),
    botIdentity: async () => ({ name: 'agent-mapreduce[bot]', email: '1+agent-mapreduce[bot]@users.noreply.github.com' }),
    gitEnv: git.gitEnv,
    mergeCache: new Map(),
    shownOrder: new Map(),
    trainNumbers: new Map(),
    mergeQueue: { bases: new Set(), queued: new Map() },
    profile: NO_PROFILE,
  };
  return { github, deps };
}
