/**
 * The narrow view of GitHub that the pipelines use, bound to one repository of one installation.
 * `createOctokitGitHub` is the one real implementation; tests drive it through nock at the HTTP level.
 */
export interface GitHub {
  readonly owner: string;
  readonly repo: string;
  /** The repository's config file, already merged with what it `_extends`; null when there is none. */
  readConfigFile(path: string): Promise<unknown>;
  /** The user's base permission on this repository. */
  getPermission(login: string): Promise<Permission>;
  listComments(issueNumber: number): Promise<IssueComment[]>;
  createComment(issueNumber: number, body: string): Promise<IssueComment>;
  updateComment(commentId: number, body: string): Promise<void>;
}

export type Permission = 'admin' | 'write' | 'read' | 'none';

export interface IssueComment {
  id: number;
  body: string;
  author: string;
  authorIsBot: boolean;
}

/** A config file that exists but cannot be read as YAML or JSON; its message says where and why. */
export class UnreadableConfigError extends Error {
  override name = 'UnreadableConfigError';
}

export function isWriter(permission: Permission): boolean {
  return permission === 'admin' || permission === 'write';
}
