import { sanitizeUntrusted } from '../agents/sanitize-untrusted.js';
import type { CheckState, ReviewComment } from '../github/port.js';

/** What sends the agent back to its PR: a person's feedback, or red required checks on the head. */
export type Feedback = PersonFeedback | CiFeedback;

/** A review that requested changes, or a `/agent revise` comment. */
export interface PersonFeedback {
  /** The review's or comment's id: a second delivery of the same feedback is not run again. */
  id: number;
  author: string;
  authorId: number;
  kind: 'review' | 'comment';
  text: string;
  comments: ReviewComment[];
}

/** Required checks that failed on the PR's head (DESIGN §4, CI rounds). */
export interface CiFeedback {
  /** Made from the head's sha: the same failure delivered twice is not run twice. */
  id: number;
  kind: 'ci';
  /** The head the checks failed on: a run that starts on another head drops it (new code gets new CI). */
  sha: string;
  checks: CheckState[];
  /** Filled in when a run takes it: which round of the PR's CI fixes this is, and what the checks said. */
  round?: { n: number; of: number };
  report?: string;
}

/** The feedback id of a head's CI failure: the sha's first 48 bits, exact in a JavaScript number. */
export function ciFeedbackId(sha: string): number {
  return Number.parseInt(sha.slice(0, 12), 16);
}

export function peopleOf(feedback: Feedback[]): PersonFeedback[] {
  return feedback.filter((f): f is PersonFeedback => f.kind !== 'ci');
}

export function ciOf(feedback: Feedback[]): CiFeedback[] {
  return feedback.filter((f): f is CiFeedback => f.kind === 'ci');
}

/** What the agent is asked to do with the feedback, before the feedback itself. */
export function feedbackInstructions(feedback: Feedback[]): string {
  const people = peopleOf(feedback).length > 0;
  const ci = ciOf(feedback).length > 0;
  if (people && ci) return 'Revise the PR to address this feedback from its reviewers and to make its failing checks pass, then finish with a summary of what you changed for each point.';
  if (ci) return 'Change the PR so that its failing checks pass, then finish with a summary of what was wrong and what you changed.';
  return 'Revise the PR to address this feedback from its reviewers, then finish with a summary of what you changed for each point.';
}

const HUNK_LINES = 12;

/** The feedback as the agent reads it: each piece with its author, and inline comments with file, line and code. */
export function renderFeedback(feedback: Feedback[]): string {
  return feedback.map((f, i) => (f.kind === 'ci' ? renderCi(f, i + 1) : renderPerson(f, i + 1))).join('\n\n');
}

function renderPerson(f: PersonFeedback, n: number): string {
  const heading = `## ${n}. ${f.kind === 'review' ? 'Review requesting changes' : 'Comment'} by @${f.author}`;
  const inline = f.comments.map((c) => {
    const hunk = c.diffHunk.split('\n').slice(-HUNK_LINES).join('\n');
    return [
      `### \`${c.path}\`${c.line !== null ? ` line ${c.line}` : ''}`,
      '',
      '```diff',
      hunk.replaceAll('```', "'''"),
      '```',
      '',
      sanitizeUntrusted(c.body, 10_000),
    ].join('\n');
  });
  return [heading, '', sanitizeUntrusted(f.text, 20_000) || '(no general comment)', ...inline.flatMap((c) => ['', c])].join('\n');
}

function renderCi(f: CiFeedback, n: number): string {
  const round = f.round ? ` (round ${f.round.n} of ${f.round.of} of CI fixes)` : '';
  const names = f.checks.map((c) => `\`${c.name}\``).join(', ');
  return [`## ${n}. Failing checks on ${f.sha.slice(0, 7)}${round}: ${names}`, '', f.report ?? ''].join('\n');
}
