import { createRequire } from 'node:module';
import { INSTALLATION_ID } from './test-probot.js';

interface WebhookDefinition {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as WebhookDefinition[];

/** A real example payload of GitHub's, deep-copied, with the installation most examples lack. */
export function examplePayload(event: string, action: string): any {
  const definition = definitions.find((d) => d.name === event);
  const example = definition?.examples.find((e) => e.action === action);
  if (!example) throw new Error(`no webhook example for ${event}.${action}`);
  const payload = structuredClone(example);
  payload.installation = { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMTAwMQ==' };
  return payload;
}

export const OWNER = 'octo-org';
export const REPO = 'widgets';

function pointAtTestRepo(payload: any): void {
  payload.repository.name = REPO;
  payload.repository.full_name = `${OWNER}/${REPO}`;
  payload.repository.owner.login = OWNER;
}

export interface CommentOptions {
  body: string;
  author?: string;
  authorType?: 'User' | 'Bot';
  issueNumber?: number;
  onPullRequest?: boolean;
}

export function issueCommentCreated(options: CommentOptions): any {
  const payload = examplePayload('issue_comment', 'created');
  pointAtTestRepo(payload);
  const author = options.author ?? 'maintainer';
  const type = options.authorType ?? 'User';
  payload.comment.body = options.body;
  payload.comment.user = { ...payload.comment.user, login: author, type };
  payload.sender = { ...payload.sender, login: author, type };
  payload.issue.number = options.issueNumber ?? 7;
  if (options.onPullRequest) {
    payload.issue.pull_request = { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${payload.issue.number}` };
  } else {
    delete payload.issue.pull_request;
  }
  return payload;
}

export interface IssueEventOptions {
  issue: { number: number; title: string; body?: string; labels: string[]; comments?: number; state?: 'open' | 'closed' };
  label?: string;
  sender?: { login: string; id: number; type?: 'User' | 'Bot' };
  repository?: { cloneUrl: string; defaultBranch: string };
}

/** `issues.labeled` / `unlabeled` / `closed` as GitHub sends them, for the test repository. */
export function issuesEvent(action: 'labeled' | 'unlabeled' | 'closed', options: IssueEventOptions): any {
  // the examples have no `closed` issue event: GitHub sends the same shape with another action
  const payload = examplePayload('issues', action === 'closed' ? 'labeled' : action);
  payload.action = action;
  if (action === 'closed') delete payload.label;
  pointAtTestRepo(payload);
  const { issue } = options;
  Object.assign(payload.issue, {
    number: issue.number,
    title: issue.title,
    body: issue.body ?? '',
    labels: issue.labels.map((name) => ({ id: name.length, node_id: 'L', url: '', name, color: 'ededed', default: false, description: null })),
    comments: issue.comments ?? 0,
    state: issue.state ?? (action === 'closed' ? 'closed' : 'open'),
    updated_at: new Date().toISOString(),
  });
  delete payload.issue.pull_request;
  if (options.label) payload.label = { id: 1, node_id: 'L', url: '', name: options.label, color: 'ededed', default: false, description: null };
  const sender = options.sender ?? { login: 'maintainer', id: 5001 };
  payload.sender = { ...payload.sender, login: sender.login, id: sender.id, type: sender.type ?? 'User' };
  if (options.repository) {
    payload.repository.clone_url = options.repository.cloneUrl;
    payload.repository.default_branch = options.repository.defaultBranch;
  }
  return payload;
}

export interface ReviewOptions {
  pull: { number: number; head: string; base?: string; headSha?: string };
  reviewId: number;
  state: 'changes_requested' | 'approved' | 'commented';
  body: string;
  reviewer: { login: string; id: number; type?: 'User' | 'Bot' };
  repository?: { cloneUrl: string; defaultBranch: string };
}

/** `pull_request_review.submitted` as GitHub sends it (webhooks say `changes_requested`, the REST API `CHANGES_REQUESTED`). */
export function reviewSubmitted(options: ReviewOptions): any {
  const payload = examplePayload('pull_request_review', 'submitted');
  pointAtTestRepo(payload);
  const user = { ...payload.sender, login: options.reviewer.login, id: options.reviewer.id, type: options.reviewer.type ?? 'User' };
  Object.assign(payload.review, { id: options.reviewId, state: options.state, body: options.body, user, commit_id: options.pull.headSha ?? payload.review.commit_id });
  Object.assign(payload.pull_request, { number: options.pull.number, state: 'open' });
  payload.pull_request.head = { ...payload.pull_request.head, ref: options.pull.head, sha: options.pull.headSha ?? payload.pull_request.head.sha, repo: payload.repository };
  payload.pull_request.base = { ...payload.pull_request.base, ref: options.pull.base ?? 'main', repo: payload.repository };
  payload.sender = user;
  if (options.repository) {
    payload.repository.clone_url = options.repository.cloneUrl;
    payload.repository.default_branch = options.repository.defaultBranch;
  }
  return payload;
}
