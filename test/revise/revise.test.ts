import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { AgentRequest } from '../../src/agents/agent.js';
import { waitUntil } from '../support/app-on-local-github.js';
import { FULL_NAME, startMapHarness, type MapHarness } from '../support/map-harness.js';
import { ScriptedAgent, sleep, usage, writeOneFile } from '../support/scripted-agent.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** Opens an agent PR for issue 1 the normal way; then revision runs append the feedback to a notes file. */
async function withAgentPull(agent: ScriptedAgent, config?: string): Promise<{ h: MapHarness; pull: number; branch: string }> {
  harness = await startMapHarness({ agent, ...(config ? { config } : {}) });
  const h = harness;
  await h.labelIssue(1, 'Add greeting');
  await h.idle();
  const pull = h.pulls()[0]!;
  return { h, pull: pull.number, branch: pull.head };
}

function revisingAgent(options: { delayMs?: number } = {}): ScriptedAgent {
  return new ScriptedAgent(async (request: AgentRequest, n) => {
    if (!request.feedback) return writeOneFile()(request, n);
    await sleep(options.delayMs ?? 0, request.signal);
    await appendFile(path.join(request.worktree, 'changes', `issue-${n}.txt`), 'revised\n');
    return { outcome: 'changed', summary: 'Addressed every point.', usage: usage({ turns: 2 }) };
  });
}

const revisionRuns = (agent: ScriptedAgent) => agent.requests.filter((r) => r.feedback);

describe('revise', () => {
  it('turns a changes-requested review with three inline comments into one run, one commit and one reply, even delivered twice', async () => {
    const agent = revisingAgent();
    const { h, pull, branch } = await withAgentPull(agent, 'map:\n  statusComment: always\n');
    const before = await h.sandbox.remoteLog(branch);

    const review = {
      state: 'changes_requested' as const, body: 'Close, but three things.',
      comments: [
        { path: 'changes/issue-1.txt', line: 1, diff_hunk: '@@ -0,0 +1 @@\n+resolved issue 1', body: 'Say which issue in words.' },
        { path: 'src/app.txt', line: 3, diff_hunk: '@@ -1,3 +1,3 @@\n app\n-old\n+new', body: 'Keep the old line.' },
        { path: 'README.md', line: 7, diff_hunk: '@@ -5,3 +5,3 @@\n # Title', body: 'Mention the flag here.' },
      ],
    };
    const delivered = await h.review(pull, review);
    await h.deliver(...delivered); // GitHub delivered it twice
    await h.idle();

    const runs = revisionRuns(agent);
    expect(runs).toHaveLength(1);
    const feedback = runs[0]!.feedback!;
    expect(feedback).toContain('Review requesting changes by @maintainer');
    expect(feedback).toContain('Close, but three things.');
    expect(feedback).toContain('### `changes/issue-1.txt` line 1');
    expect(feedback).toContain('Say which issue in words.');
    expect(feedback).toContain('### `src/app.txt` line 3');
    expect(feedback).toContain('+new');
    expect(feedback).toContain('### `README.md` line 7');
    expect(runs[0]!.task).toContain('Your PR #');
    expect(runs[0]!.task).toContain('+resolved issue 1');

    const after = await h.sandbox.remoteLog(branch);
    expect(after).toHaveLength(before.length + 1);
    expect(after[1]!.sha).toBe(before[0]!.sha); // on top: no force-push
    expect(after[0]!.subject).toBe(`Address review feedback on #${pull}`);
    expect(after[0]!.body).toContain(`Co-authored-by: maintainer <${h.github.state.user('maintainer').id}+maintainer@users.noreply.github.com>`);
    expect(await h.sandbox.readRemoteFile(branch, 'changes/issue-1.txt')).toBe('resolved issue 1\nrevised\n');

    const replies = h.pull(pull).comments.filter((c) => c.user.type === 'Bot');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toMatch(new RegExp(`^@maintainer revised in ${after[0]!.sha.slice(0, 7)}:\\n\\nAddressed every point\\.`));
    expect(replies[0]!.body).toContain('Run: 2 turns');
    expect(h.github.repo(FULL_NAME).checkRuns.at(-1)).toMatchObject({ headSha: after[0]!.sha, conclusion: 'success' });
    // with statusComment: always, the issue's status comment followed along: revising, then the open PR, revised once
    const edits = h.github.callsOf('issues/update-comment').map((c) => String(c.body.body));
    expect(edits.some((body) => body.includes(`🏃 **Revising PR #${pull} (round 1)**`))).toBe(true);
    const status = h.comments(1).find((c) => c.user.type === 'Bot')!.body;
    expect(status).toContain(`✅ **PR opened:** ${h.pull(pull).html_url} · revised once`);
    expect(h.comments(1).filter((c) => c.user.type === 'Bot')).toHaveLength(1);
  });

  it('coalesces two /agent revise comments posted while a revision runs into exactly one more run with both', async () => {
    const agent = revisingAgent({ delayMs: 300 });
    const { h, pull, branch } = await withAgentPull(agent);

    await h.comment(pull, '/agent revise first: rename the file');
    await waitUntil('the first revision to start', () => revisionRuns(agent).length === 1);
    await h.comment(pull, '/agent revise second: add a test\nand keep it short');
    await h.comment(pull, '/agent revise third: fix the typo', 'admin');
    await h.idle();

    const runs = revisionRuns(agent);
    expect(runs).toHaveLength(2);
    expect(runs[0]!.feedback).toContain('first: rename the file');
    expect(runs[0]!.feedback).not.toContain('second');
    expect(runs[1]!.feedback).toContain('second: add a test\nand keep it short');
    expect(runs[1]!.feedback).toContain('Comment by @admin');
    expect(runs[1]!.feedback).toContain('third: fix the typo');
    expect((await h.sandbox.remoteLog(branch)).slice(0, 2).map((c) => c.subject))
      .toEqual([`Address review feedback on #${pull}`, `Address review feedback on #${pull}`]);
    expect(h.pull(pull).comments.filter((c) => c.user.type === 'Bot')).toHaveLength(2);
    // without a status comment the issue shows nothing new: the revision is on the PR
    expect(h.comments(1)).toEqual([]);
    expect(h.issue(1).labels).toEqual(['agent', 'agent:pr-opened']);
  });

  it('answers /agent revise from a non-writer with a polite refusal and runs nothing', async () => {
    const agent = revisingAgent();
    const { h, pull } = await withAgentPull(agent);
    await h.comment(pull, '/agent revise do it my way', 'drive-by');
    await h.idle();

    expect(revisionRuns(agent)).toHaveLength(0);
    const replies = h.pull(pull).comments.filter((c) => c.user.type === 'Bot');
    expect(replies.map((c) => c.body)).toEqual(['@drive-by sorry, only people with write access to this repository can command agent-mapreduce.']);
  });

  it('ignores reviews and commands from bots, and reviews that do not request changes', async () => {
    const agent = revisingAgent();
    const { h, pull } = await withAgentPull(agent);
    const calls = h.github.calls.length;
    // the approval is a passer-by's, so that the reduce pass it starts has nothing to merge
    await h.review(pull, { state: 'approved', body: 'LGTM', by: 'drive-by' });
    await h.review(pull, { state: 'commented', body: 'nit' });
    h.github.state.user('other-bot[bot]', 'Bot');
    await h.comment(pull, '/agent revise from a bot', 'other-bot[bot]');
    await h.idle();

    expect(revisionRuns(agent)).toHaveLength(0);
    // an approval starts a reduce pass, which here only shows the PR's place (nothing is approved for its code)
    // (git's own token for the pass's fetch is made and revoked, and is not a write to the repository)
    const gitToken = (path: string) => path.endsWith('/access_tokens') || path === '/installation/token';
    expect(h.github.calls.slice(calls).filter((c) => c.method !== 'GET' && !gitToken(c.path)).map((c) => `${c.method} ${c.path}`))
      .toEqual(['POST /repos/octo-org/widgets/check-runs']);
    expect(h.github.repo(FULL_NAME).checkRuns.at(-1)?.title).toBe('Waiting: needs 1 approval from writers (has 0)');
  });

  it('says /agent revise works only on the app’s own PRs', async () => {
    const agent = revisingAgent();
    harness = await startMapHarness({ agent });
    const h = harness;
    await h.github.commit(FULL_NAME, 'feature/x', { 'x.txt': 'x\n' }, 'Human work');
    const human = await h.github.openPull(FULL_NAME, { title: 'Human work', head: 'feature/x' });
    await h.comment(human, '/agent revise make it better');
    await h.idle();

    expect(revisionRuns(agent)).toHaveLength(0);
    expect(h.pull(human).comments.filter((c) => c.user.type === 'Bot').map((c) => c.body)).toEqual([
      '@maintainer `/agent revise` works on PRs that agent-mapreduce opened (branches `agent/issue-…`); this one is not.',
    ]);
  });
});

describe('retry and stop on an agent PR', () => {
  it('/agent retry on the PR runs its issue again from the base and updates the same PR', async () => {
    let attempt = 0;
    const agent = new ScriptedAgent(async (request, n) => {
      attempt++;
      await writeOneFile()(request, n);
      await appendFile(path.join(request.worktree, 'changes', `issue-${n}.txt`), `attempt ${attempt}\n`);
      return { outcome: 'changed', summary: `Attempt ${attempt}.`, usage: usage() };
    });
    const { h, pull, branch } = await withAgentPull(agent);
    const first = (await h.sandbox.remoteLog(branch))[0]!;

    await h.comment(pull, '/agent retry');
    await h.idle();

    expect(h.pulls()).toHaveLength(1);
    const log = await h.sandbox.remoteLog(branch);
    expect(log.map((c) => c.sha)).not.toContain(first.sha); // replaced from the base, not stacked
    expect(await h.sandbox.readRemoteFile(branch, 'changes/issue-1.txt')).toBe('resolved issue 1\nattempt 2\n');
    expect(h.pull(pull).body).toContain('Attempt 2');
    expect(h.pull(pull).comments.filter((c) => c.user.type === 'Bot').map((c) => c.body))
      .toEqual(['@maintainer running issue #1 again from the base branch; this PR will be updated.']);
  });

  it('/agent stop on the PR stops its running revision', async () => {
    const agent = revisingAgent({ delayMs: 60_000 });
    const { h, pull, branch } = await withAgentPull(agent);
    const before = await h.sandbox.remoteLog(branch);
    await h.comment(pull, '/agent revise take your time');
    await waitUntil('the revision to start', () => revisionRuns(agent).length === 1);

    await h.comment(pull, '/agent stop');
    await h.idle();

    expect(await h.sandbox.remoteLog(branch)).toEqual(before);
    expect(h.pull(pull).comments.filter((c) => c.user.type === 'Bot').map((c) => c.body)).toEqual(['@maintainer stopped.']);
  });
});

describe('revision set-up', () => {
  it('runs the repository’s setup commands in the revision’s worktree before the agent revises', async () => {
    const agent = revisingAgent();
    harness = await startMapHarness({ agent, config: 'map:\n  setup: ["ls changes 2>/dev/null | wc -l | tr -d \' \' > .setup-saw"]\n' });
    const h = harness;
    await h.labelIssue(1, 'Add greeting');
    await h.idle();
    const { number: pull, head } = h.pulls()[0]!;
    expect(await h.sandbox.readRemoteFile(head, '.setup-saw')).toBe('0\n'); // before the first run: no changes/ yet

    await h.comment(pull, '/agent revise more');
    await h.idle();

    expect(revisionRuns(agent)).toHaveLength(1);
    expect(await h.sandbox.readRemoteFile(head, '.setup-saw')).toBe('1\n'); // it saw the PR's own file
  });
});
