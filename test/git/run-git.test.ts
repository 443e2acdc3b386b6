import os from 'node:os';
import { afterEach, describe, expect, it } from '@jest/globals';
import { GitError, runGit } from '../../src/git/run-git.js';

const cwd = os.tmpdir();
const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
});

describe('runGit', () => {
  it('gives git a fixed locale, no prompts, and none of our own secrets or GIT_* variables', async () => {
    process.env.GITHUB_TOKEN = 'ghs_inherited';
    process.env.GIT_TRACE = '1';
    process.env.LANG = 'de_DE.UTF-8';

    const env = await runGit(['-c', 'alias.printenv=!env', 'printenv'], { cwd, env: { EXTRA: 'yes' } });

    const names = env.split('\n').map((line) => line.split('=')[0]);
    expect(names).not.toContain('GITHUB_TOKEN');
    expect(names).not.toContain('GIT_TRACE');
    expect(names).not.toContain('LANG');
    expect(env).toContain('LC_ALL=C\n');
    expect(env).toContain('GIT_TERMINAL_PROMPT=0\n');
    expect(env).toContain('EXTRA=yes\n');
  });

  it('throws a GitError with the arguments, exit code and stderr, secrets redacted', async () => {
    const failure = await runGit(['rev-parse', '--verify', 'no-such-ref-s3cret'], { cwd, secrets: ['s3cret'] })
      .then(() => null, (error: unknown) => error);

    expect(failure).toBeInstanceOf(GitError);
    const error = failure as GitError;
    expect(error.args).toEqual(['rev-parse', '--verify', 'no-such-ref-***']);
    expect(error.code).toBe(128);
    expect(error.stderr).toMatch(/not a git repository|Needed a single revision/);
    expect(error.message).not.toContain('s3cret');
  });

  it('returns code, stdout and stderr for exit codes the caller expects', async () => {
    const result = await runGit(['config', '--file', '/dev/null', '--get', 'no.such'], { cwd, expectedExitCodes: [1] });

    expect(result).toEqual({ code: 1, stdout: '', stderr: '' });
    await expect(runGit(['rev-parse', '--verify', 'no-such-ref'], { cwd, expectedExitCodes: [1] })).rejects.toThrow(GitError);
  });

  it('passes input on stdin', async () => {
    expect(await runGit(['hash-object', '--stdin'], { cwd, input: 'hello\n' })).toBe('ce013625030ba8dba906f756967f9e9ca394464a\n');
  });

  it('stops git when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();

    await expect(runGit(['version'], { cwd, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
