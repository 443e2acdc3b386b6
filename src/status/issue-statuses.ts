import type { MarkedComments } from '../github/marked-comment.js';
import { readMarker } from '../github/marked-comment.js';
import type { GitHub, IssueInfo } from '../github/port.js';
import { AWAITING_REVIEWS_LABEL, BLOCKED_LABEL, PR_OPENED_LABEL, STATUS_KIND, WORKING_LABEL } from '../names.js';
import type { IssueState, IssueStatus } from './issue-status.js';
import { renderStatus, type StatusView } from './render-status.js';

/** `when-needed`: a status comment only when a person must read or act; `always`: one per issue. */
export type StatusCommentMode = 'when-needed' | 'always';

/** States a person must read or act on: they get the status comment in either mode. */
const FOR_A_PERSON: ReadonlySet<IssueState> = new Set(['no-change', 'not-actionable', 'failed', 'cancelled', 'planned']);

/** The label each state shows on the issue; the others show none (their comment says it). */
const LABEL_OF: Partial<Record<IssueState, string>> = { queued: WORKING_LABEL, running: WORKING_LABEL, 'pr-open': PR_OPENED_LABEL };
/** A held issue's label says what it waits for; the full reason is on the dashboard and in `/agent status`. */
const HOLD_LABELS = { reviews: AWAITING_REVIEWS_LABEL, blockers: BLOCKED_LABEL } as const;
const STATE_LABELS = [WORKING_LABEL, PR_OPENED_LABEL, AWAITING_REVIEWS_LABEL, BLOCKED_LABEL];

/** How many issues' last label this process remembers. */
const REMEMBERED = 10_000;

/**
 * Where each issue stands, shown on GitHub without spending notifying writes on the happy path
 * (GitHub's secondary limit counts comments, not labels or edits): a label while the issue is
 * queued or running (`agent:working`), another once its PR is open (`agent:pr-opened`, with the PR
 * linked by GitHub from its "Closes #n"), and the status comment only when a person must read or
 * act, when the repository asks for it (`map.statusComment: always`), or when the issue already has
 * one (it is then kept current, since edits are free). The state is read back from that comment
 * when there is one, else from the labels, which every issue listing carries: no extra read.
 */
export class IssueStatuses {
  readonly #comments: MarkedComments;
  /**
   * What this process knows each issue carries: its state labels (from the last `read` or `show`), to
   * change labels only on a change, and the attempt, which labels cannot carry (after a restart it
   * counts from 1 again).
   */
  readonly #shown = new Map<string, { labels: string[]; attempt?: number }>();
  /** One change at a time per issue, so that labels and comment end in the last state shown. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(comments: MarkedComments) {
    this.#comments = comments;
  }

  show(github: GitHub, issueNumber: number, view: StatusView, mode: StatusCommentMode = 'when-needed'): Promise<void> {
    return this.#chain(github, issueNumber, async () => {
      const { state, hold } = view.status;
      const label = state === 'waiting' ? HOLD_LABELS[hold ?? 'reviews'] : LABEL_OF[state];
      await this.#label(github, issueNumber, label ?? null, view.status.attempt);
      const comment = mode === 'always' || FOR_A_PERSON.has(view.status.state) || await this.#comments.find(github, issueNumber, STATUS_KIND);
      if (comment) await this.#comments.upsert(github, issueNumber, STATUS_KIND, renderStatus(view), view.status);
    });
  }

  /** Keeps an existing status comment current, from the state it records (a PR's revision rounds); writes nothing else. */
  update(github: GitHub, issueNumber: number, next: (previous: IssueStatus) => StatusView): Promise<void> {
    return this.#chain(github, issueNumber, async () => {
      const comment = await this.#comments.find(github, issueNumber, STATUS_KIND);
      const previous = comment ? statusIn(comment.body) : null;
      if (!previous) return;
      const view = next(previous);
      await this.#comments.upsert(github, issueNumber, STATUS_KIND, renderStatus(view), view.status);
    });
  }

  /** The issue's recorded state: its status comment's, else its labels'; null when the app never took it. */
  async read(github: GitHub, issue: Pick<IssueInfo, 'number' | 'labels' | 'comments'>): Promise<IssueStatus | null> {
    const comment = issue.comments > 0 ? await this.#comments.find(github, issue.number, STATUS_KIND) : undefined;
    const recorded = comment ? statusIn(comment.body) : null;
    if (recorded) return recorded;
    const key = keyOf(github, issue.number);
    const attempt = this.#shown.get(key)?.attempt;
    // what the issue carries, for the next show to change (what this process showed since is newer)
    if (!this.#shown.has(key)) this.#remember(key, { labels: STATE_LABELS.filter((l) => issue.labels.includes(l)) });
    const taken = [WORKING_LABEL, AWAITING_REVIEWS_LABEL, BLOCKED_LABEL].some((l) => issue.labels.includes(l));
    const state = issue.labels.includes(PR_OPENED_LABEL) ? 'pr-open' : taken ? 'queued' : null;
    return state ? { state, ...(attempt ? { attempt } : {}) } : null;
  }

  /** A new issue has no status comment: the first show need not list its comments. */
  assumeNone(github: GitHub, issueNumber: number): void {
    this.#comments.assumeNone(github, issueNumber, STATUS_KIND);
  }

  async #label(github: GitHub, issueNumber: number, label: string | null, attempt: number | undefined): Promise<void> {
    const key = keyOf(github, issueNumber);
    const known = this.#shown.get(key)?.labels;
    // the new label first, so that the issue always shows one
    if (label && !known?.includes(label)) await github.addLabels(issueNumber, [label]);
    // not known (never read nor shown here): either state label may be on it
    for (const old of known ?? STATE_LABELS) if (old !== label) await github.removeLabel(issueNumber, old);
    this.#remember(key, { labels: label ? [label] : [], ...(attempt ? { attempt } : {}) });
  }

  #remember(key: string, shown: { labels: string[]; attempt?: number }): void {
    this.#shown.delete(key);
    this.#shown.set(key, shown);
    if (this.#shown.size > REMEMBERED) this.#shown.delete(this.#shown.keys().next().value!);
  }

  #chain(github: GitHub, issueNumber: number, change: () => Promise<void>): Promise<void> {
    const key = keyOf(github, issueNumber);
    const next = (this.#chains.get(key) ?? Promise.resolve()).catch(() => {}).then(change);
    this.#chains.set(key, next);
    const forget = () => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}

function statusIn(body: string): IssueStatus | null {
  const data = readMarker(body)?.data;
  return data && typeof data.state === 'string' ? data as unknown as IssueStatus : null;
}

function keyOf(github: GitHub, issueNumber: number): string {
  return `${github.owner}/${github.repo}#${issueNumber}`;
}
