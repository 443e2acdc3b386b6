import { afterEach, describe, expect, it } from '@jest/globals';
import { FULL_NAME, startMapHarness, type MapHarness } from '../support/map-harness.js';
import { ScriptedAgent, sleep, usage, writeOneFile } from '../support/scripted-agent.js';

let harness: MapHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** Plans (read-only runs) answer with a plan; implementation runs write the issue's file. */
function planningAgent(): ScriptedAgent {
  return new ScriptedAgent(async (request, n) => {
    if (request.readOnly) {
      await sleep(100);
      return { outcome: 'no-change', summary: `**Approach** touch changes/issue-${n}.txt\n\n**Risks** none`, usage: usage() };
    }
    return writeOneFile()(request, n);
  });
}

const botComments = (h: MapHarness, n: number) => h.comments(n).filter((c) => c.user.type === 'Bot').map((c) => c.body);
/** The issue's status comment, and its plan. */
const statusAndPlan = (h: MapHarness, n: number) => [
  botComments(h, n).find((b) => b.includes('agent-mapreduce:status')) ?? '', botComments(h, n).find((b) => b.includes('agent-mapreduce:plan')) ?? '',
];

describe('plan-first mode', () => {
  it('with map.plan, labelling posts a plan and no PR, for many issues at once under the cap, without running setup', async () => {
    const agent = planningAgent();
    harness = await startMapHarness({ agent, config: 'map:\n  plan: true\n  concurrency: 2\n  setup: ["exit 1"]\n' });
    const h = harness;
    for (const n of [1, 2, 3, 4]) await h.labelIssue(n, `Plan ${n}`);
    await h.idle();

    expect(agent.maxRunning).toBe(2);
    expect(agent.requests.every((r) => r.readOnly === true)).toBe(true);
    expect(agent.requests[0]!.task).toContain('# Plan first');
    expect(h.pulls()).toHaveLength(0);
    expect(await h.sandbox.remoteBranches()).toEqual(['main']);
    for (const n of [1, 2, 3, 4]) {
      const [status, plan] = statusAndPlan(h, n);
      expect(status).toContain('📝 **Plan posted** below.');
      expect(plan).toContain(`📝 **Plan for #${n}**\n\n**Approach** touch changes/issue-${n}.txt`);
    }
  });

  it('/agent go implements the posted plan, with the guidance given, in one PR', async () => {
    const agent = planningAgent();
    harness = await startMapHarness({ agent, config: 'map:\n  plan: true\n' });
    const h = harness;
    await h.labelIssue(1, 'Plan then do');
    await h.idle();

    await h.comment(1, '/agent go\nKeep the file short.');
    await h.idle();

    const implementation = agent.requests.at(-1)!;
    expect(implementation.readOnly).toBeUndefined();
    expect(implementation.task).toContain('# The plan the maintainers approved: follow it');
    expect(implementation.task).toContain('**Approach** touch changes/issue-1.txt');
    // the plan itself, from the comment's marker: not the comment's heading or its footer
    expect(implementation.task).not.toContain('📝 **Plan for #1**');
    expect(implementation.task).not.toContain('to implement this plan');
    expect(implementation.task).toContain('Guidance from @maintainer with `/agent go`\n\nKeep the file short.');
    expect(h.pulls()).toHaveLength(1);
    expect(statusAndPlan(h, 1)[0]).toContain('✅ **PR opened:**');
  });

  it('/agent plan plans an issue of a repository that does not plan by default; /agent go without a plan says so', async () => {
    const agent = planningAgent();
    harness = await startMapHarness({ agent });
    const h = harness;
    h.github.openIssue(FULL_NAME, { number: 5, title: 'Think first', by: 'reporter' });
    await h.comment(5, '/agent go');
    await h.comment(5, '/agent plan');
    await h.idle();

    expect(h.issue(5).labels).toEqual(['agent']);
    expect(agent.requests.map((r) => r.readOnly)).toEqual([true]);
    expect(h.pulls()).toHaveLength(0);
    const comments = botComments(h, 5);
    expect(comments[0]).toBe('@maintainer there is no plan for this issue yet; comment `/agent plan` first.');
    expect(comments.some((c) => c.includes('📝 **Plan for #5**'))).toBe(true);
  });
});
