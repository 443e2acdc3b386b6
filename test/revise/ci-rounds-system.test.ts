/**
 * Red CI goes back to the agent, end to end: the app in its own process against the local GitHub
 * (signed webhooks, OpenAPI-checked calls, git over HTTP), simulated GitHub Actions CI on every push,
 * and the scripted model, which carries out the `EDIT` lines it reads in the feedback (here: in the
 * failing check's annotation). One app process serves every test; each test has its own repository.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, waitUntil, type System } from '../support/app-on-local-github.js';
import type { RecordedRequest } from '../support/fake-messages-api.js';
import { SimulatedCi, type CiFailure, type CiRun } from '../support/local-github/simulated-ci.js';
import { editLine } from '../support/scripted-model.js';

let system: System;
let ci: SimulatedCi;

/** How CI fails in each repository: when, and what it reports. */
const failures = new Map<string, { when: (read: (file: string) => Promise<string | undefined>) => Promise<boolean>; report: CiFailure }>();
const contains = (file: string, text: string) => async (read: (file: string) => Promise<string | undefined>) => (await read(file))?.includes(text) ?? false;

/** A megabyte of log whose first line must never reach the model, and whose end says what failed. */
const BIG_LOG = `FIRST LINE OF THE LOG\n${'2024-05-01T10:00:00.0000000Z \u001b[32mok\u001b[0m some passing test\n'.repeat(16_000)}` +
  '2024-05-01T10:00:01.0000000Z Error: expected a shipped colour in src/colours.txt\n';

beforeAll(async () => {
  system = await startSystem();
  ci = new SimulatedCi(system.github, {
    seconds: 1,
    fails: (run, read) => failures.get(run.repository)?.when(read) ?? Promise.resolve(false),
    failure: (run: CiRun) => failures.get(run.repository)?.report ?? {},
  });
  // GitHub may deliver a webhook twice: every failing check's is redelivered right after it
  system.github.webhooks.drop = (delivery) => {
    const run = delivery.payload.check_run as { conclusion?: string } | undefined;
    if (delivery.name === 'check_run' && run?.conclusion === 'failure') queueMicrotask(() => void system.github.webhooks.redeliver(delivery));
    return false;
  };
});

afterAll(async () => {
  ci?.stop();
  await system?.stop();
});

async function repository(name: string, files: Record<string, string> = {}): Promise<string> {
  const fullName = `octo-org/${name}`;
  await system.github.createRepository(fullName, { 'README.md': `# ${name}\n`, 'src/colours.txt': 'red\ngreen\nblue\n', ...files });
  system.github.grant(fullName, 'maintainer', 'write');
  return fullName;
}

function firstMessage(request: RecordedRequest): string {
  const content = (request.body?.messages as Array<{ content: string | Array<{ text?: string }> }> | undefined)?.[0]?.content;
  return typeof content === 'string' ? content : (content ?? []).map((b) => b.text ?? '').join('\n');
}

/** The tasks of the agent runs that were sent back on red checks of `repo`'s PR `pr`. */
function ciRuns(repo: string, pr: number): string[] {
  return system.model.requests.filter((r) => r.path.startsWith('/v1/messages') && (r.body?.messages as unknown[] | undefined)?.length === 1)
    .map(firstMessage).filter((task) => task.includes('Failing checks on') && task.includes(` of ${repo}.`) && task.includes(`PR #${pr} `));
}

/** What the app logged about the checks of `sha`: the operator's view, and the only trace of a decision to do nothing. */
function ciResults(sha: string): Array<{ decision: string; pr?: number; asked?: string }> {
  return system.app.output().split('\n').filter((line) => line.includes('"ci result"'))
    .map((line) => JSON.parse(line) as { decision: string; pr?: number; sha: string; asked?: string }).filter((entry) => entry.sha === sha);
}

const appComments = (repo: string, n: number) => system.github.comments(repo, n).filter((c) => c.viaApp).map((c) => c.body);

async function agentPull(repo: string, title: string, body: string): Promise<{ number: number; head: string }> {
  const issue = system.github.openIssue(repo, { title, body });
  system.github.label(repo, issue, 'agent');
  const pull = await waitUntil('the agent’s PR', () => system.github.pullsFor(repo, issue)[0], 60_000);
  return { number: pull.number, head: pull.pull!.head };
}

describe('red required checks on an agent PR', () => {
  it('sends the agent back with the check’s name, annotation and log tail, twice at most, then leaves it to people with the reason', async () => {
    const { github } = system;
    const repo = await repository('red', { 'src/notes.txt': 'tries:\n' });
    github.requireChecks(repo, 'main', ['ci/test']);
    failures.set(repo, {
      when: contains('src/colours.txt', 'teal'),
      report: {
        summary: '1 of 12 tests failed',
        annotations: [{ path: 'src/colours.txt', line: 2, level: 'failure', title: 'colour check',
          message: `teal is not a colour we ship. ${editLine('src/notes.txt', 'tries:', 'tries: again')}` }],
        log: BIG_LOG,
      },
    });
    const pull = await agentPull(repo, 'Green should be teal', editLine('src/colours.txt', 'green', 'teal'));
    // a failing check the base does not require: not the agent's to fix
    github.setStatus(repo, github.issue(repo, pull.number).pull!.headSha, 'lint/optional', 'failure');

    await waitUntil('the PR to be left to people', () => appComments(repo, pull.number).find((c) => c.includes('a person must look')), 60_000);
    const prRuns = ci.runs.filter((r) => r.repository === repo && r.branch === pull.head);
    // the third red head's redelivered webhook, looked at once more
    await waitUntil('the redelivery of the last failure', () => ciResults(prRuns[2]!.sha).some((r) => r.decision === 'already-left'));

    const runs = ciRuns(repo, pull.number);
    expect(runs).toHaveLength(2);
    const [first] = runs as [string];
    expect(first).toContain('`ci/test`');
    expect(first).toContain('teal is not a colour we ship');
    expect(first).toContain('`src/colours.txt` line 2 (failure)');
    expect(first).toContain('1 of 12 tests failed');
    expect(first).toContain('Error: expected a shipped colour in src/colours.txt');
    expect(first).toContain('<ci-output>');
    expect(first).not.toContain('FIRST LINE OF THE LOG');
    expect(first).not.toContain('\u001b[32m');
    expect(first).not.toContain('lint/optional');
    expect(first.length).toBeLessThan(40_000);

    expect(prRuns.map((r) => r.conclusion)).toEqual(['failure', 'failure', 'failure']);
    expect(await github.readFile(repo, pull.head, 'src/notes.txt')).toBe('tries: again again\n');
    const comments = appComments(repo, pull.number);
    expect(comments.filter((c) => c.startsWith('Revised in ')).map((c) => /CI round \d of \d/.exec(c)?.[0])).toEqual(['CI round 1 of 2', 'CI round 2 of 2']);
    const last = prRuns[2]!.sha.slice(0, 7);
    expect(comments.find((c) => c.includes('a person must look'))).toBe(`❌ \`ci/test\` still fails on ${last} after 2 rounds of fixes by the agent ` +
      '(`revise.maxCiRounds`: 2), so the agent will not try again: **a person must look**.');
    const ledger = comments.find((c) => c.includes('CI fixes by the agent'))!;
    expect(ledger).toContain(`- round 1: \`ci/test\` failed on ${prRuns[0]!.sha.slice(0, 7)}`);
    expect(ledger).toContain(`- round 2: \`ci/test\` failed on ${prRuns[1]!.sha.slice(0, 7)}`);
    expect(ledger).toContain(`❌ **Left to people** from ${last} on`);
    // each failing check's webhook came twice (and its suite's once): each red head was sent back once, the last left once
    const asked = (sha: string) => ciResults(sha).filter((r) => r.decision === 'fix' && r.asked === 'queued');
    expect(prRuns.map((run) => asked(run.sha).length)).toEqual([1, 1, 0]);
    expect(ciResults(prRuns[2]!.sha).filter((r) => r.decision === 'leave')).toHaveLength(1);
    expect(github.webhooks.deliveries.filter((d) => d.outcome === 'failed')).toEqual([]);
    expect(github.problems).toEqual([]);
  });

  it('is fixed in one round when the agent’s change turns the check green', async () => {
    const repo = await repository('fixed');
    failures.set(repo, {
      when: contains('src/colours.txt', 'grey'),
      report: { summary: 'grey is out', annotations: [{ path: 'src/colours.txt', line: 2, level: 'failure', message: editLine('src/colours.txt', 'grey', 'teal') }] },
    });
    const pull = await agentPull(repo, 'Green should be grey', editLine('src/colours.txt', 'green', 'grey'));

    await waitUntil('CI to pass', () => ci.runs.some((r) => r.repository === repo && r.branch === pull.head && r.conclusion === 'success'), 60_000);
    const passed = ci.runs.find((r) => r.repository === repo && r.conclusion === 'success')!;
    await waitUntil('the green head to be looked at', () => ciResults(passed.sha).some((r) => r.decision === 'green'));

    expect(ciRuns(repo, pull.number)).toHaveLength(1);
    expect(await system.github.readFile(repo, pull.head, 'src/colours.txt')).toBe('red\nteal\nblue\n');
    const comments = appComments(repo, pull.number);
    expect(comments.some((c) => c.startsWith('Revised in ') && c.includes('(CI round 1 of 2)'))).toBe(true);
    expect(comments.some((c) => c.includes('a person must look'))).toBe(false);
    expect(system.github.problems).toEqual([]);
  });
});

describe('red checks the agent is not sent back for', () => {
  it('does nothing for a fork’s PR, whatever its branch is called', async () => {
    const { github } = system;
    const repo = await repository('forked');
    failures.set(repo, { when: async (read) => (await read('broken.txt')) !== undefined, report: { summary: 'broken' } });
    const head = 'agent/issue-1-looks-like-the-agents';
    const sha = await github.commit(repo, head, { 'broken.txt': 'x\n' }, 'Break it', { by: 'mallory' });
    const pr = await github.openPull(repo, { title: 'Totally the agent', head, by: 'mallory', fork: 'mallory' });
    await waitUntil('CI to fail', () => ci.runs.some((r) => r.sha === sha && r.conclusion === 'failure'));

    await waitUntil('the app to see the fork', () => ciResults(sha).some((r) => r.decision === 'fork' && r.pr === pr));
    expect(ciRuns(repo, pr)).toEqual([]);
    expect(appComments(repo, pr)).toEqual([]);
    expect((await github.branches(repo)).get(head)).toBe(sha);
    expect(github.problems).toEqual([]);
  });

  it('does nothing when the same check fails on the base branch’s tip (classic branch protection requiring it)', async () => {
    const { github } = system;
    const repo = await repository('base-red');
    github.requireChecks(repo, 'main', ['ci/test'], 'protection');
    failures.set(repo, { when: async (read) => (await read('flaky.txt')) !== undefined, report: { summary: 'the base is red' } });
    const base = await github.commit(repo, 'main', { 'flaky.txt': 'x\n' }, 'A red base');
    await waitUntil('CI to fail on the base', () => ci.runs.some((r) => r.sha === base && r.conclusion === 'failure'));
    const issue = github.openIssue(repo, { title: 'Add a file' });
    const head = `agent/issue-${issue}-add-a-file`;
    const sha = await github.commit(repo, head, { 'added.txt': 'x\n' }, 'Add a file', { by: 'agent-mapreduce[bot]' });
    const pr = await github.openPull(repo, { title: 'Add a file', head, by: 'agent-mapreduce[bot]', body: `Closes #${issue}` });

    await waitUntil('the app to judge the red head', () => ciResults(sha).some((r) => r.decision === 'not-ours' && r.pr === pr));
    expect(ciRuns(repo, pr)).toEqual([]);
    expect(appComments(repo, pr)).toEqual([]);
    expect((await github.branches(repo)).get(head)).toBe(sha);
    expect(github.problems).toEqual([]);
  });
});
