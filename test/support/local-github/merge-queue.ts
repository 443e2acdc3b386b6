/**
 * GitHub's merge queue, as far as the app meets it: a branch can require it, and then the REST merge
 * answers 405 "Changes must be made through the merge queue"; the GraphQL `enqueuePullRequest`
 * mutation puts a PR in the queue (refused when `expectedHeadOid` is not its head). The queue is
 * recorded, not run: a test reads `entries` to see what was queued, in which order.
 */
import type { Issue, Repository } from './state.js';

export interface QueueEntry {
  number: number;
  headSha: string;
  jump: boolean;
}

export type GraphqlReply = { data: unknown } | { errors: Array<{ type: string; message: string }> };

export class MergeQueues {
  readonly #required = new Set<string>();
  readonly #entries = new Map<string, QueueEntry[]>();

  /** From now on the branch takes merges only through the queue. */
  require(fullName: string, branch: string): void {
    this.#required.add(`${fullName}:${branch}`);
  }

  requires(repository: Repository, branch: string): boolean {
    return this.#required.has(`${repository.owner.login}/${repository.name}:${branch}`);
  }

  /** What was queued for the branch, front first. */
  entries(fullName: string, branch: string): QueueEntry[] {
    return [...(this.#entries.get(`${fullName}:${branch}`) ?? [])];
  }

  /** Answers a GraphQL request; only the enqueue mutation is known. */
  graphql(request: { query?: unknown; variables?: Record<string, unknown> }, pullOf: (nodeId: string) => { repository: Repository; issue: Issue } | undefined): GraphqlReply {
    const query = typeof request.query === 'string' ? request.query : '';
    if (!/\benqueuePullRequest\s*\(/.test(query)) return { errors: [{ type: 'NOT_SUPPORTED', message: 'The local GitHub knows only enqueuePullRequest' }] };
    const variables = request.variables ?? {};
    const found = pullOf(String(variables.id ?? ''));
    if (!found?.issue.pull) return { errors: [{ type: 'NOT_FOUND', message: `Could not resolve to a node with the global id of '${String(variables.id)}'` }] };
    const { repository, issue } = found;
    const pull = issue.pull!;
    if (issue.state !== 'open') return { errors: [{ type: 'UNPROCESSABLE', message: 'Pull request is closed' }] };
    if (variables.oid !== pull.headSha) return { errors: [{ type: 'UNPROCESSABLE', message: 'Expected head oid does not match the pull request head' }] };
    if (!this.requires(repository, pull.base)) return { errors: [{ type: 'UNPROCESSABLE', message: 'Merge queue is not enabled for this branch' }] };
    const key = `${repository.owner.login}/${repository.name}:${pull.base}`;
    const queue = (this.#entries.get(key) ?? []).filter((e) => e.number !== issue.number);
    const entry = { number: issue.number, headSha: pull.headSha, jump: variables.jump === true };
    if (entry.jump) queue.unshift(entry);
    else queue.push(entry);
    this.#entries.set(key, queue);
    return { data: { enqueuePullRequest: { mergeQueueEntry: { position: queue.indexOf(entry) + 1 } } } };
  }
}
