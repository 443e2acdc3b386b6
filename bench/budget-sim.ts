/**
 * The GitHub budget simulation of `npm run bench`: 600 issues labelled at once, mapped by the real
 * pipeline against the local GitHub with GitHub's secondary limit switched on (80 content-creating
 * requests a minute, 500 an hour), and the app's write budget at its defaults (80 and 450). Time is
 * compressed 15 times for both (a "minute" of 4 s, an "hour" of 4 minutes): the pipeline here opens
 * about 2 PRs a second, so the 600 PRs, more than an hour's budget, wait for the window as they would
 * in real time (an hour and a quarter, simulated in about five minutes).
 * Prints the refusals GitHub answered (the target is 0), the issues that ended with a PR or a stated
 * reason, and the most writes /metrics showed waiting. BENCH_SIM_ISSUES changes the count.
 */
import { DEFAULT_WRITE_LIMITS } from '../src/github/write-budget.js';
import { SecondaryLimit } from '../test/support/local-github/secondary-limit.js';
import { startMapHarness } from '../test/support/map-harness.js';
import { ScriptedAgent, writeOneFile } from '../test/support/scripted-agent.js';
import { print } from './print-figure.js';

const ISSUES = Number(process.env.BENCH_SIM_ISSUES ?? 600);
const COMPRESSION = 15;
const windows = { minuteMs: 60_000 / COMPRESSION, hourMs: 3_600_000 / COMPRESSION };


async function main(): Promise<void> {
  const limit = new SecondaryLimit({ perMinute: 80, perHour: 500, ...windows });
  const h = await startMapHarness({
    agent: new ScriptedAgent(writeOneFile()), maxAgents: 16, config: 'map:\n  concurrency: 16\n',
    settings: { writeLimits: { ...DEFAULT_WRITE_LIMITS, ...windows } },
    before: (github) => {
      github.secondaryLimit = limit;
    },
  });
  let waitingPeak = 0;
  const watch = setInterval(() => {
    void h.services.profile.metrics.registry.metrics().then((text) => {
      waitingPeak = Math.max(waitingPeak, Number(/^agent_mapreduce_github_writes_waiting (\d+)/m.exec(text)?.[1] ?? 0));
    });
  }, 100);
  const started = Date.now();
  try {
    for (let n = 1; n <= ISSUES; n++) await h.labelIssue(n, `Simulated task ${n}`);
    await h.idle();
  } finally {
    clearInterval(watch);
  }
  const seconds = (Date.now() - started) / 1000;
  const withPull = new Set(h.pulls().map((p) => Number(/^agent\/issue-(\d+)-/.exec(p.head)?.[1])));
  const accounted = Array.from({ length: ISSUES }, (_, i) => i + 1)
    .filter((n) => withPull.has(n) || h.comments(n).some((c) => c.user.type === 'Bot' && c.body.includes('agent-mapreduce:status'))).length;
  const context = {
    issues: ISSUES, compression: COMPRESSION, github_limits: '80/min, 500/h', app_budget: `${DEFAULT_WRITE_LIMITS.perMinute}/min, ${DEFAULT_WRITE_LIMITS.perHour}/h`,
    pulls: withPull.size, seconds: Number(seconds.toFixed(1)), simulated_minutes: Number((seconds * COMPRESSION / 60).toFixed(1)),
    peak_writes_in_a_minute: limit.peakMinute, peak_writes_in_an_hour: limit.peakHour,
  };
  print('sim_secondary_limit_answers', limit.refused, context);
  print('sim_issues_with_pr_or_reason', accounted, context);
  print('sim_writes_waiting_peak', waitingPeak, context);
  await h.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
