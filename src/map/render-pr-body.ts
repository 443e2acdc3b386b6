import type { AgentUsage } from '../agents/agent.js';
import { renderUsage } from '../pipeline/render-usage.js';

export interface PrBodyInput {
  issueNumber: number;
  summary: string;
  files: string[];
  usage: AgentUsage;
  requester: string;
  attempt: number;
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
