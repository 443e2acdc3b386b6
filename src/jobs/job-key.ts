/**
 * A job's key: `owner/name#issue`. One issue has at most one job of each kind queued or running, and
 * its map, revision and rebase jobs share the key, so they never run at once on one issue.
 */
export function issueKey(owner: string, repo: string, issueNumber: number): string {
  return `${owner}/${repo}#${issueNumber}`;
}

/** The repository (`owner/name`) and issue of an `issueKey`. */
export function issueOfKey(key: string): { repo: string; issue: number } {
  const hash = key.lastIndexOf('#');
  return { repo: key.slice(0, hash), issue: Number(key.slice(hash + 1)) };
}
