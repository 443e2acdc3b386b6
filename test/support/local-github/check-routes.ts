/**
 * What the local GitHub says about CI beyond the list of a commit's checks: a check run's annotations,
 * an Actions job's log (as GitHub serves it: a redirect to where the log is stored), and which checks
 * a branch requires, by its rulesets (`rules/branches/{branch}`) and by its classic protection (as the
 * branch itself shows it).
 */
import { nodeId } from './render.js';
import type { Call, Handler, Reply, RouteContext } from './routes.js';
import type { Repository } from './state.js';

const notFound: Reply = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
/** Where the job logs are kept: outside the API, like GitHub's signed storage links, so no token is needed. */
export const JOB_LOGS_PATH = '/_job-logs/';

/** The checks `branch` requires, `via` its rulesets or its classic protection. */
export function requireChecks(repository: Repository, branch: string, names: string[], via: 'rules' | 'protection'): void {
  repository.requiredChecks ??= { rules: new Map(), protection: new Map() };
  repository.requiredChecks[via].set(branch, names);
}

/** The text of the job log a `JOB_LOGS_PATH` address names; undefined when there is none. */
export function jobLogAt(ctx: Pick<RouteContext, 'repo'>, pathname: string): string | undefined {
  const [owner = '', name = '', id = ''] = pathname.slice(JOB_LOGS_PATH.length).split('/');
  return ctx.repo(owner, name)?.checkRuns.find((r) => r.id === Number(id))?.log;
}

export function checkRoutes(ctx: RouteContext): Record<string, Handler> {
  const inRepo = (handler: (repository: Repository, call: Call) => Promise<Reply> | Reply): Handler => (call) => {
    const repository = ctx.repo(call.params.owner!, call.params.repo!);
    return repository ? handler(repository, call) : notFound;
  };
  const urls = (repository: Repository, call: Call) => {
    const fullName = `${repository.owner.login}/${repository.name}`;
    return { fullName, web: `${call.url.origin}/${fullName}`, api: `${call.url.origin}/api/v3/repos/${fullName}` };
  };

  return {
    'checks/list-annotations': inRepo((repository, call) => {
      const run = repository.checkRuns.find((r) => r.id === Number(call.params.check_run_id));
      if (!run) return notFound;
      const { web } = urls(repository, call);
      return {
        status: 200,
        body: (run.annotations ?? []).slice(0, Number(call.query.per_page ?? 30)).map((a) => ({
          path: a.path, start_line: a.line, end_line: a.line, start_column: null, end_column: null, annotation_level: a.level,
          title: a.title ?? null, message: a.message, raw_details: null, blob_href: `${web}/blob/${run.headSha}/${a.path}`,
        })),
      };
    }),

    'actions/download-job-logs-for-workflow-run': inRepo((repository, call) => {
      const run = repository.checkRuns.find((r) => r.id === Number(call.params.job_id) && r.actions);
      if (run?.log === undefined) return notFound;
      return { status: 302, headers: { location: `${call.url.origin}${JOB_LOGS_PATH}${repository.owner.login}/${repository.name}/${run.id}` } };
    }),

    'repos/get-branch-rules': inRepo((repository, call) => {
      const names = repository.requiredChecks?.rules.get(call.params.branch!);
      const rules = names ? [{
        type: 'required_status_checks', ruleset_source_type: 'Repository', ruleset_source: urls(repository, call).fullName, ruleset_id: 1,
        parameters: { required_status_checks: names.map((context) => ({ context })), strict_required_status_checks_policy: false },
      }] : [];
      return { status: 200, body: rules };
    }),

    'repos/get-branch': inRepo((repository, call) => branchWithProtection(ctx, repository, call.params.branch!, urls(repository, call))),
  };
}

/** `GET /repos/{owner}/{repo}/branches/{branch}`: the branch's tip and its classic protection. */
async function branchWithProtection(ctx: RouteContext, repository: Repository, branch: string, { web, api }: { web: string; api: string }): Promise<Reply> {
  const bare = ctx.bare(repository);
  const sha = await bare.sha(branch);
  if (!sha) return { status: 404, body: { message: 'Branch not found', documentation_url: 'https://docs.github.com/rest' } };
  const commit = await bare.commit(sha);
  const names = repository.requiredChecks?.protection.get(branch);
  const person = { name: 'Local Human', email: 'human@example.com', date: '2020-01-01T00:00:00Z' };
  return {
    status: 200,
    body: {
      name: branch, protected: names !== undefined, protection_url: `${api}/branches/${branch}/protection`,
      _links: { html: `${web}/tree/${branch}`, self: `${api}/branches/${branch}` },
      protection: {
        enabled: names !== undefined,
        required_status_checks: { enforcement_level: names ? 'non_admins' : 'off', contexts: names ?? [], checks: (names ?? []).map((context) => ({ context, app_id: null })) },
      },
      commit: {
        sha, node_id: nodeId('C', parseInt(sha.slice(0, 8), 16)), url: `${api}/commits/${sha}`, html_url: `${web}/commit/${sha}`,
        comments_url: `${api}/commits/${sha}/comments`, author: null, committer: null,
        parents: commit.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${web}/commit/${p}` })),
        commit: {
          url: `${api}/git/commits/${sha}`, author: person, committer: person, message: commit.message.trim(), comment_count: 0,
          tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
        },
      },
    },
  };
}
