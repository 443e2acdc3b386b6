import type { AgentUsage } from '../agents/agent.js';
import { renderUsage } from '../pipeline/render-usage.js';
import type { Sibling } from './find-siblings.js';

export interface PrBodyInput {
  issueNumber: number;
  summary: string;
  files: string[];
  usage: AgentUsage;
  requester: string;
  attempt: number;
  /** Other open agent PRs that touch the same files, most alike first. */
  siblings?: Sibling[];
}

/**
 * The breadcrumb a reviewer re-enters from: what changed and why, files, how it was verified (in
 * the agent's summary), and what the run cost.
 */
export function renderPrBody(input: PrBodyInput): string {
  const shownFiles = input.files.slice(0, 50).map((f) => `- \`${f}\``);
  if (input.files.length > shownFiles.length) shownFiles.push(`- … and ${input.files.length - shownFiles.length} more`);
  return [
    `Closes #${input.issueNumber}`,
    '',
    ...renderSiblings(input.siblings ?? []),
    '## Summary',
    '',
    input.summary.trim() || '_The agent left no summary._',
    '',
    `## Files touched (${input.files.length})`,
    '',
    ...shownFiles,
    '',
    '## Run',
    '',
    `Attempt ${input.attempt}: ${renderUsage(input.usage)}`,
    '',
    `<sub>Opened by agent-mapreduce for @${input.requester}. Review it like any other PR: request changes, or ` +
      'comment `/agent revise <what to change>`.</sub>',
  ].join('\n');
}

/** Before the summary, so that a reviewer sees an overlap before reading: "#41 touches the same 3 files (`a`, `b`, `c`); 85% alike". */
function renderSiblings(siblings: Sibling[]): string[] {
  if (siblings.length === 0) return [];
  const shown = siblings.slice(0, 10).map(({ number, shared, similarity }) => {
    const files = shared.slice(0, 5).map((f) => `\`${f}\``).join(', ') + (shared.length > 5 ? ', …' : '');
    const same = shared.length === 1 ? 'the same file' : `the same ${shared.length} files`;
    return `- #${number} touches ${same} (${files}); ${Math.round(similarity * 100)}% alike`;
  });
  return ['## Other open agent PRs touching the same files', '', ...shown, ''];
}
