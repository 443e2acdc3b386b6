/**
 * The profile at its bound: 2,000 issues remembered, each with a full timeline. Prints how long a
 * dashboard page and a /metrics scrape take to build, and the memory the records hold.
 */
import { emptyUsage } from '../src/agents/agent.js';
import { Scheduler } from '../src/jobs/scheduler.js';
import { renderDashboard } from '../src/profile/dashboard/render-dashboard.js';
import { renderRunPage } from '../src/profile/dashboard/render-run.js';
import { Profile } from '../src/profile/profile.js';
import { print } from './print-figure.js';

const ISSUES = Number(process.env.BENCH_PROFILE_ISSUES ?? 2000);
const STEPS = Number(process.env.BENCH_PROFILE_STEPS ?? 300);


function timed<T>(run: () => T, times = 20): { ms: number; result: T } {
  let result = run();
  const started = performance.now();
  for (let i = 0; i < times; i++) result = run();
  return { ms: (performance.now() - started) / times, result };
}

const heapBefore = (global.gc?.(), process.memoryUsage().heapUsed);
const profile = new Profile({ load: new Scheduler({ globalCap: 8 }), webBase: 'https://github.com' });
const stages = ['pr-open', 'approved', 'merged', 'failed', 'changes-requested'] as const;
for (let issue = 1; issue <= ISSUES; issue++) {
  const ref = { repo: `octo/repo-${issue % 20}`, issue };
  profile.record({ ...ref, type: 'seen', title: `Issue ${issue}: make the widget ${issue} times better` });
  for (let step = 0; step < STEPS; step++) profile.record({ ...ref, type: 'step', tool: step % 2 ? 'read_file' : 'edit_file' });
  profile.record({ ...ref, type: 'agent-used', work: 'map', usage: { ...emptyUsage(), turns: 30, inputTokens: 90_000, outputTokens: 4000, costUsd: 0.4 } });
  const stage = stages[issue % stages.length]!;
  if (stage === 'failed') {
    profile.record({ ...ref, type: 'ended', work: 'map', outcome: 'failed', reason: 'The turn budget ran out.' });
    continue;
  }
  profile.record({ ...ref, type: 'pull', pr: issue + ISSUES, url: `https://github.com/${ref.repo}/pull/${issue + ISSUES}`, base: 'main', opened: true });
  if (stage === 'approved' || stage === 'merged') profile.record({ ...ref, type: 'review', pr: issue + ISSUES, id: issue, author: 'alice', state: 'approved' });
  if (stage === 'changes-requested') profile.record({ ...ref, type: 'review', pr: issue + ISSUES, id: issue, author: 'alice', state: 'changes_requested' });
  if (stage === 'merged') profile.record({ ...ref, type: 'merged', pr: issue + ISSUES });
}
const heapAfter = (global.gc?.(), process.memoryUsage().heapUsed);

const page = timed(() => renderDashboard(profile.view(), { nonce: 'bench' }));
print('dashboard_page_ms', page.ms, { issues: ISSUES, bytes: page.result.length, target: '< 200' });
const run = timed(() => renderRunPage(profile.run('octo/repo-1', 1)!, { nonce: 'bench', now: Date.now() }));
print('run_page_ms', run.ms, { timeline_entries: profile.run('octo/repo-1', 1)!.timeline.length, target: '< 20' });
const scrapeStarted = performance.now();
for (let i = 0; i < 20; i++) await profile.metrics.registry.metrics();
print('metrics_scrape_ms', (performance.now() - scrapeStarted) / 20, { target: '< 50' });
print('profile_heap_mb', (heapAfter - heapBefore) / 1024 / 1024, { issues: ISSUES, steps_each: STEPS, note: global.gc ? 'after gc' : 'run with --expose-gc for an exact figure' });
