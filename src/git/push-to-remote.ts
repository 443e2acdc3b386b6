import { authEnv } from './auth-env.js';
import { findSecrets, type Secret } from './find-secrets.js';
import { protocolOf } from './remote-url.js';
import { GitError, runGit } from './run-git.js';
import { redact } from '../text.js';

export interface PushOptions {
  token?: string;
  force?: boolean;
  /** Push only if the remote branch is at `expectedSha`, or (null) does not exist. Implies force. */
  lease?: { expectedSha: string | null };
}

export type PushOutcome = { kind: 'pushed'; sha: string } | { kind: 'rejected'; reason: string };


/** A push refused because its commits hold one of the app's own secrets; the message names which, never the value. */
export class SecretInPushError extends Error {
  constructor(readonly names: string[]) {
    super(`Nothing was pushed: the changes contain the app's own secret${names.length > 1 ? 's' : ''} (${names.join(', ')}), `
      + 'as written or base64-encoded. The issue text may be trying to exfiltrate it; a maintainer should look at the run before retrying.');
    this.name = 'SecretInPushError';
  }
}

/**
 * Pushes `sha` to `refs/heads/<branch>` at `remoteUrl` (the URL GitHub gave, not whatever a clone's
 * `origin` says by now), with the token in git's environment only and no transport but the
 * remote's. A stale lease or a non-fast-forward is `rejected`; anything else unexpected throws.
 */
export async function pushToRemote(push: PushOptions & {
  dir: string;
  env: Record<string, string>;
  remoteUrl: string;
  branch: string;
  sha: string;
}): Promise<PushOutcome> {
  const ref = `refs/heads/${push.branch}`;
  const args = ['push', '--porcelain'];
  if (push.lease) args.push(`--force-with-lease=${ref}:${push.lease.expectedSha ?? ''}`);
  else if (push.force) args.push('--force');
  args.push(push.remoteUrl, `${push.sha}:${ref}`);
  const auth = authEnv(push.token, push.remoteUrl);
  const result = await runGit(args, {
    cwd: push.dir,
    env: { ...push.env, ...auth.env, GIT_ALLOW_PROTOCOL: protocolOf(push.remoteUrl) },
    secrets: auth.secrets,
    expectedExitCodes: [1],
  });
  if (result.code === 0) return { kind: 'pushed', sha: push.sha };
  const rejection = rejectionReason(result.stdout, ref);
  if (rejection === null) throw new GitError(args, result.code, redact(result.stderr, auth.secrets), push.dir);
  return { kind: 'rejected', reason: rejection };
}

/** The names of the secrets that the commits reachable from `sha` and not yet on the remote add. */
export async function secretsInNewCommits(dir: string, sha: string, secrets: readonly Secret[], env: Record<string, string>): Promise<string[]> {
  if (secrets.length === 0) return [];
  const patch = await runGit(['log', '-p', '--text', '--no-ext-diff', '--no-textconv', '--format=', sha, '--not', '--remotes=origin'], { cwd: dir, env });
  return findSecrets(patch, secrets);
}

/** The reason git gave for refusing `ref`, from `git push --porcelain` output; null if it did not. */
function rejectionReason(porcelain: string, ref: string): string | null {
  for (const line of porcelain.split('\n')) {
    const [flag, refs, summary = ''] = line.split('\t');
    if (flag !== '!' || !refs?.endsWith(`:${ref}`)) continue;
    const match = /^\[(.+?)\](?: \((.*)\))?$/.exec(summary);
    if (!match) return summary;
    const [, kind, detail] = match;
    return kind === 'rejected' ? (detail ?? kind) : `${kind}${detail ? `: ${detail}` : ''}`;
  }
  return null;
}
