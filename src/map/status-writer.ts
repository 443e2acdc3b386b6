import type { AgentProgress } from '../agents/agent.js';
import { FAILED_LABEL } from '../names.js';
import type { IssueStatus } from '../status/issue-status.js';
import type { IssueJob, IssueJobOutcome, MapDeps } from './issue-job.js';
import type { StatusView } from '../status/render-status.js';
import { clip } from '../text.js';

const PROGRESS_EDIT_INTERVAL_MS = 60_000;

export interface StatusWriter {
  write(view: StatusView): Promise<void>;
  progress(progress: AgentProgress): void;
}

/** Where the issue stands (issue-statuses.ts); progress edits of a status comment are spaced out. */
export function statusWriter(deps: MapDeps, job: IssueJob): StatusWriter {
  let current: IssueStatus | undefined;
  let lastProgressEdit = Date.now();
  const write = (view: StatusView) => {
    current = view.status;
    return deps.statuses.show(job.github, job.issueNumber, view, job.config.map.statusComment);
  };
  return {
    write,
    progress(progress) {
      if (current?.state !== 'running' || Date.now() - lastProgressEdit < PROGRESS_EDIT_INTERVAL_MS) return;
      lastProgressEdit = Date.now();
      write({ status: current, progress }).catch((err: unknown) => job.log.warn({ err }, 'progress edit failed'));
    },
  };
}

/** Labels the issue failed and says why in its status comment (a person must act: there is always one). */
export async function finishFailed(deps: MapDeps, job: IssueJob, status: StatusWriter, reason: string, branch?: string): Promise<IssueJobOutcome> {
  await job.github.addLabels(job.issueNumber, [FAILED_LABEL]);
  await status.write({ status: { state: 'failed', attempt: job.attempt, reason: clipReason(reason), ...(branch ? { branch } : {}) } });
  return { kind: 'failed', reason };
}

/** A reason cut to what a status comment shows. */
export function clipReason(text: string): string {
  return clip(text, 1500);
}
