/** `agent/issue-<n>-<slug>`: the slug keeps the branch readable; the number alone identifies it. */
export function branchName(issueNumber: number, title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug ? `agent/issue-${issueNumber}-${slug}` : `agent/issue-${issueNumber}`;
}

const branchPattern = /^agent\/issue-(\d+)(?:-|$)/;

/** The issue an agent branch works on, or undefined for any other branch. */
export function issueOfBranch(branch: string): number | undefined {
  const match = branchPattern.exec(branch);
  return match ? Number(match[1]) : undefined;
}
