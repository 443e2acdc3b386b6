/**
 * A fleet's process killed with SIGKILL at a seeded point of a run, and started again, while another
 * process of the fleet shares its Redis: the dead process's issue locks and run slots lapse (here after
 * 2 s, REDIS_LOCK_TTL) and every labelled issue still ends with exactly one PR or one failure report.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runGit } from '../../src/git/run-git.js';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { editLine } from '../support/scripted-model.js';
import { seededRandom } from '../support/seeded-random.js';

const SEEDS = [7, 19, 31, 43, 59];
let redis: RedisServer;
let system: System;
let other: AppProcess;
let otherDir: string;

beforeAll(async () => {
  redis = await startRedis();
  const fleet = { REDIS_URL: redis.url, REDIS_LOCK_TTL: '2s', MAX_AGENTS: '2' };
  system = await startSystem({ env: fleet });
  otherDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-other-'));
  other = await startAppProcess({
    cwd: otherDir,
    env: { ...system.github.appEnv(), ...fleet, WORK_DIR: path.join(otherDir, 'work'), ANTHROPIC_API_KEY: 'sk-ant-local', ANTHROPIC_BASE_URL: system.model.url },
  });
});

afterAll(async () => {
  await other?.kill('SIGKILL');
  await system?.stop();
  await redis?.stop();
  await rm(otherDir, { recursive: true, force: true });
});

describe('a fleet process killed mid-run', () => {
  it.each(SEEDS)('seed %i: after SIGKILL and a restart, each issue has exactly one PR or one failure report', async (seed) => {
    const { github } = system;
    const random = seededRandom(seed);
    const repo = `octo-org/fleet-crash-${seed}`;
    await github.createRepository(repo, { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' });
    github.grant(repo, 'maintainer', 'write');
    github.webhooks.url = system.app.webhookUrl;

    const killAt = github.calls.length + 1 + Math.floor(random() * 24);
    const phase = random() < 0.5 ? 'before' : 'after';
    let killed = false;
    const victim = system.app;
    github.onCall = async (call, at) => {
      if (killed || call.index !== killAt || at !== phase) return;
      killed = true;
      github.webhooks.hold = true;
      await victim.kill('SIGKILL');
    };
    const issues = [
      github.openIssue(repo, { title: 'Alpha to omega', body: editLine('a.txt', 'alpha', 'omega') }),
      github.openIssue(repo, { title: 'Beta to gamma', body: editLine('b.txt', 'beta', 'gamma') }),
    ];
    for (const issue of issues) github.label(repo, issue, 'agent');

    const settled = (issue: number) => {
      const labels = github.issue(repo, issue).labels;
      return labels.includes('agent:failed') ||
        (github.pullsFor(repo, issue).length > 0 && labels.includes('agent:pr-opened') && !labels.includes('agent:working'));
    };
    await waitUntil('the kill or both issues settled', () => killed || issues.every(settled));
    if (!killed) await victim.kill('SIGKILL');
    github.onCall = undefined;
    // started again: its reconcile asks for the issues once the dead process's locks have lapsed
    await system.restart();
    github.webhooks.url = system.app.webhookUrl;

    await waitUntil('both issues to settle after the restart', () => issues.every(settled), 45_000);
    await waitUntil('no worktree in use', async () => (await worktreesInUse(system)).length === 0, 15_000)
      .catch(async () => expect(await worktreesInUse(system)).toEqual([]));
    for (const issue of issues) {
      const failed = github.issue(repo, issue).labels.includes('agent:failed');
      expect({ issue, pulls: github.pullsFor(repo, issue).length }).toEqual({ issue, pulls: failed ? 0 : 1 });
      expect({ issue, statusComments: github.comments(repo, issue).filter((c) => c.viaApp).length }).toEqual({ issue, statusComments: failed ? 1 : 0 });
    }
    expect(github.problems).toEqual([]);
  });
});

/** Worktrees still on a branch or with changes in them: the idle ones kept for reuse are detached and clean. */
async function worktreesInUse(current: System): Promise<string[]> {
  const inUse: string[] = [];
  for (const dir of await current.worktrees()) {
    const branch = await runGit(['symbolic-ref', '--quiet', 'HEAD'], { cwd: dir, expectedExitCodes: [1] });
    const dirty = await runGit(['status', '--porcelain'], { cwd: dir });
    if (branch.code === 0 || dirty.trim() !== '') inUse.push(`${dir}: ${branch.stdout.trim() || 'detached'} ${dirty.trim()}`);
  }
  return inUse;
}
