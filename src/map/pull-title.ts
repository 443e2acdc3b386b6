const MAX_LENGTH = 256;

/**
 * The PR title and commit subject for an issue: its title on one line, without the characters a
 * reader cannot see (controls, NUL bytes that git refuses in a commit message, zero-width and bidi
 * characters that make the text read differently than it is), and within GitHub's length limit.
 */
export function pullTitle(issueNumber: number, issueTitle: string): string {
  const clean = issueTitle
    .replace(/\p{Cf}|\p{Cs}/gu, '')
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .trim();
  const characters = Array.from(clean);
  const title = characters.length > MAX_LENGTH ? `${characters.slice(0, MAX_LENGTH - 1).join('').trimEnd()}…` : clean;
  return title || `Issue #${issueNumber}`;
}
