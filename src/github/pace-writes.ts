import type { ProbotOctokit } from 'probot';
import { notifyingWrite, type WriteAllowance, type WriteKind } from './write-budget.js';

/** Told of every notifying write when it goes out, and how long it waited for room. */
export type WriteObserver = (write: { kind: WriteKind; waitedMs: number }) => void;

const paced = new WeakSet<object>();

/** Every notifying write of this octokit waits for room in the installation's budget; once per octokit. */
export function paceWrites(octokit: ProbotOctokit, budget: WriteAllowance, observer?: WriteObserver): void {
  if (paced.has(octokit)) return;
  paced.add(octokit);
  octokit.hook.wrap('request', async (request, options) => {
    const kind = notifyingWrite(options.method ?? 'GET', options.url ?? '');
    if (kind) {
      const asked = Date.now();
      await budget.take(kind);
      observer?.({ kind, waitedMs: Date.now() - asked });
    }
    return request(options);
  });
}
