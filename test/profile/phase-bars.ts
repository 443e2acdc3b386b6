/** What the system test reads of the Where the time went page and of the phases in /metrics. */
import type { Page } from 'playwright-core';
import type { LocalGitHub } from '../support/local-github/local-github.js';
import type { Sample } from '../support/prometheus-text.js';

export interface Bar {
  issue: string;
  state: string;
  leadMs: number;
  segments: Array<{ phase: string; from: number; ms: number; width: number }>;
}

/** Every bar of the timeline chart as the browser has it, segments in the order drawn. */
export function readBars(page: Page): Promise<Bar[]> {
  return page.locator('#phase-chart g.life').evaluateAll((groups) => groups.map((g) => ({
    issue: g.getAttribute('data-issue') ?? '',
    state: g.getAttribute('data-state') ?? '',
    leadMs: Number(g.getAttribute('data-lead-ms')),
    segments: [...g.querySelectorAll('rect[data-phase]')].map((rect) => ({
      phase: rect.getAttribute('data-phase') ?? '',
      from: Number(rect.getAttribute('data-from')),
      ms: Number(rect.getAttribute('data-ms')),
      width: rect.getBoundingClientRect().width,
    })),
  })));
}

/** The phases in order, CI waits left out (whether checks run depends on the repository's CI), repeats folded. */
export function phasesWithoutCi(bar: Bar): string[] {
  return bar.segments.map((s) => s.phase).filter((p) => p !== 'ci').filter((p, i, all) => p !== all[i - 1]);
}

/** The seconds /metrics gives all the merged issues' phases together. */
export function phaseSecondsSum(samples: Sample[]): number {
  return samples.filter((s) => s.name === 'agent_mapreduce_issue_phase_seconds_sum').reduce((sum, s) => sum + s.value, 0);
}

/** From the label to the moment GitHub was asked to merge the issue's PR (the successful call), in ms. */
export function leadTime(github: LocalGitHub, repo: string, pr: number, labelledAt: number): number {
  const merge = github.callsOf('pulls/merge').find((c) => c.path === `/repos/${repo}/pulls/${pr}/merge` && c.status === 200);
  if (!merge) throw new Error(`no merge of #${pr}`);
  return merge.at - labelledAt;
}
