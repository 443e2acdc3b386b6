/**
 * The attack that opened the sandbox issue, end to end through the real app in its own process:
 * an issue's text makes the built-in agent point `npm test` at a script of its own and run it
 * (allowed by `map.allowedCommands`). The script hunts for the app's secrets, other repositories
 * and the host, writes what it found into the worktree and prints it, tries to write outside, and
 * leaves a `setsid` daemon to read the next push's environment. It finds nothing, writes nothing
 * outside, and nothing secret reaches the model or the pushed branch.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import { reply, startFakeMessagesApi, toolUse, type RecordedRequest, type ScriptStep } from '../support/fake-messages-api.js';

const REPO = 'octo-org/widgets';
const OTHER = 'octo-org/secret-plans';
const MODEL_KEY = 'sk-ant-local';
let system: System;
const outsideMarker = path.join('/tmp', `sandbox-escape-${process.pid}`);

function stealScript(workDir: string): string {
  return [
    '#!/bin/sh',
    '{',
    '  echo "== every environ"; cat /proc/*/environ 2>&1 | tr "\\0" "\\n"',
    '  echo "== env"; env',
    `  echo "== work dir"; ls -R ${workDir} 2>&1 | head -100`,
    `  echo "== other repository"; cat ${workDir}/repos/octo-org/secret-plans.git/HEAD 2>&1`,
    '  echo "== host tmp"; ls /tmp 2>&1',
    '  echo "== app home"; ls -a ~ 2>&1',
    '} > loot.txt 2>&1',
    `echo escaped > ${outsideMarker} 2>/dev/null`,
    `echo escaped > ${workDir}/escaped 2>/dev/null`,
    // a daemon that would read the token from the environment of the app's next git push
    'setsid sh -c "sleep 2; cat /proc/*/environ > late-loot.txt 2>&1" > /dev/null 2>&1 < /dev/null &',
    'cat loot.txt',
    'echo "1 test passed"',
  ].join('\n');
}

/** The hostile agent: rewrite the test script, run the allowed `npm test`, finish as changed. */
function hostileModel(workDir: () => string) {
  return (request: RecordedRequest): ScriptStep => {
    const messages = (request.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
    const done = messages.filter((m) => m.role === 'user' && Array.isArray(m.content)).length;
    const steps = [
      () => toolUse('write_file', { path: 'package.json', content: '{"name":"widgets","scripts":{"test":"sh steal.sh"}}\n' }),
      () => toolUse('write_file', { path: 'steal.sh', content: stealScript(workDir()) }),
      () => toolUse('run_command', { command: 'npm test' }),
      () => toolUse('finish', { outcome: 'changed', summary: 'Tests pass.' }),
    ];
    return reply((steps[done] ?? steps[3]!)());
  };
}

beforeAll(async () => {
  let workDir = '';
  const model = await startFakeMessagesApi({ steps: [hostileModel(() => workDir)], onExhausted: 'repeat-last' });
  system = await startSystem({ model });
  workDir = system.workDir;
  await system.github.createRepository(OTHER, { 'plans.txt': 'the other repository\n' });
  await system.github.createRepository(REPO, {
    'README.md': '# Widgets\n',
    '.github/agent-mapreduce.yml': 'map:\n  allowedCommands: ["npm test"]\nreduce:\n  requireChecks: false\n',
  });
  system.github.grant(REPO, 'maintainer', 'write');
  system.github.grant(OTHER, 'maintainer', 'write');
  // the other repository's clone is cached on the same machine first
  const other = system.github.openIssue(OTHER, { title: 'Anything', body: 'Anything.' });
  system.github.label(OTHER, other, 'agent');
  await waitUntil('the other repository PR', () => system.github.pullsFor(OTHER, other)[0], 60_000);
});

afterAll(async () => {
  await system?.stop();
});

describe('an issue that turns `npm test` against the app', () => {
  it('ends changed, with nothing secret reaching the model or the branch and nothing written outside the worktree', async () => {
    const { github, model } = system;
    const issue = github.openIssue(REPO, { title: 'Make the tests pass', body: 'Rewrite the test script as the agent sees fit.' });
    github.label(REPO, issue, 'agent');
    const pull = await waitUntil('the PR', () => github.pullsFor(REPO, issue)[0], 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // longer than the daemon's sleep

    const env = github.appEnv();
    const secrets = [
      env.WEBHOOK_SECRET!, MODEL_KEY,
      ...env.PRIVATE_KEY!.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----')),
    ];
    const commandResult = JSON.stringify(model.requests.map((r) => r.body));
    expect(commandResult).toContain('1 test passed'); // the command ran, in the sandbox
    expect(commandResult).toContain('== every environ');
    for (const secret of secrets) expect(commandResult).not.toContain(secret);

    const loot = (await github.readFile(REPO, pull.pull!.head, 'loot.txt')) ?? '';
    for (const secret of secrets) expect(loot).not.toContain(secret);
    const workDirListing = loot.slice(loot.indexOf('== work dir'), loot.indexOf('== other repository'));
    expect(workDirListing).toContain('widgets.git');
    expect(workDirListing).not.toContain('secret-plans');
    expect(loot).toMatch(/== other repository\n.*secret-plans\.git\/HEAD: No such file or directory/);
    expect(await github.readFile(REPO, pull.pull!.head, 'steal.sh')).toContain('setsid');

    expect(existsSync(outsideMarker)).toBe(false);
    expect(existsSync(path.join(system.workDir, 'escaped'))).toBe(false);
    const leftovers = (await readdir(system.workDir, { recursive: true })).filter((f) => f.endsWith('late-loot.txt'));
    expect(leftovers).toEqual([]);
    expect(await github.readFile(REPO, pull.pull!.head, 'late-loot.txt')).toBeUndefined();
    expect(github.problems).toEqual([]);
  });
});
