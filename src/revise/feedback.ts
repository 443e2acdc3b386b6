import { sanitizeUntrusted } from '../agents/sanitize-untrusted.js';
import type { ReviewComment } from '../github/port.js';

/** One piece of review feedback: a review that requested changes, or a `/agent revise` comment. */
export interface Feedback {
  /** The review's or comment's id: a second delivery of the same feedback is not run again. */
  id: number;
  author: string;
  authorId: number;
  kind: 'review' | 'comment';
  text: string;
  comments: ReviewComment[];
}

const HUNK_LINES = 12;

/** The feedback as the agent reads it: each piece with its author, and inline comments with file, line and code. */
export function renderFeedback(feedback: Feedback[]): string {
  return feedback.map((f, i) => {
    const heading = `## ${i + 1}. ${f.kind === 'review' ? 'Review requesting changes' : 'Comment'} by @${f.author}`;
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
  }).join('\n\n');
}
