import { CHECK_NAME } from '../names.js';
import type { AdapterContext } from './octokit-parts.js';
import type { CheckState, GitHub } from './port.js';
import { readLogTail } from './read-log-tail.js';
import { unreadable } from './rest-shapes.js';

/** GitHub Actions' app: its check runs are jobs, whose logs the API serves. */
const ACTIONS_SLUG = 'github-actions';

/** Rulesets need only metadata permission; classic protection shows in the branch itself. */
async function readRequiredChecks({ octokit, where }: AdapterContext, branch: string): Promise<string[]> {
  const [rules, protection] = await Promise.all([
    octokit.paginate(octokit.rest.repos.getBranchRules, { ...where, branch, per_page: 100 }).catch((error: unknown) => {
      if (unreadable(error)) return [];
      throw error;
    }),
    octokit.rest.repos.getBranch({ ...where, branch }).then(({ data }) => data.protection?.required_status_checks, (error: unknown) => {
      if (unreadable(error)) return undefined;
      throw error;
    }),
  ]);
  const names = rules.flatMap((rule) => rule.type === 'required_status_checks'
    ? (rule as { parameters?: { required_status_checks?: Array<{ context: string }> } }).parameters?.required_status_checks?.map((c) => c.context) ?? []
    : []);
  names.push(...(protection?.contexts ?? []), ...(protection?.checks ?? []).map((c) => c.context));
  return [...new Set(names)];
}

/** What the CI of a commit says, in detail: each check, the branch's required ones, annotations and job logs. */
export function checksPart(ctx: AdapterContext): Pick<GitHub, 'listChecks' | 'listRequiredChecks' | 'listAnnotations' | 'readJobLogTail'> {
  const { octokit, where } = ctx;
  return {
    async listChecks(ref) {
      // one page each, as the reduce pass reads them: a hundred checks on one commit is more than any CI runs
      // (and paginating would rewrite the kept answer that a conditional read hands back)
      const [{ data: runs }, combined] = await Promise.all([
        octokit.rest.checks.listForRef({ ...where, ref, filter: 'latest', per_page: 100 }),
        octokit.rest.repos.getCombinedStatusForRef({ ...where, ref, per_page: 100 }),
      ]);
      const checks: CheckState[] = runs.check_runs.filter((r) => !r.name.startsWith(CHECK_NAME)).map((r) => ({
        name: r.name,
        source: { kind: 'check-run', id: r.id, actions: r.app?.slug === ACTIONS_SLUG },
        state: r.status !== 'completed' ? 'pending' : ['success', 'neutral', 'skipped'].includes(r.conclusion ?? '') ? 'success' : 'failure',
        title: r.output.title ?? '',
        summary: r.output.summary ?? '',
        annotations: r.output.annotations_count,
      }));
      for (const s of combined.data.statuses ?? []) {
        checks.push({
          name: s.context, source: { kind: 'status' }, state: s.state === 'success' ? 'success' : s.state === 'pending' ? 'pending' : 'failure',
          title: s.description ?? '', summary: '', annotations: 0,
        });
      }
      return checks;
    },

    listRequiredChecks: (branch) => readRequiredChecks(ctx, branch),

    async listAnnotations(checkRunId, max) {
      const { data } = await octokit.rest.checks.listAnnotations({ ...where, check_run_id: checkRunId, per_page: Math.min(Math.max(max, 1), 100) });
      return data.slice(0, max).map((a) => ({
        path: a.path, line: a.start_line, level: a.annotation_level ?? '', title: a.title ?? '', message: a.message ?? '', details: a.raw_details ?? '',
      }));
    },

    async readJobLogTail(jobId, maxBytes) {
      try {
        // GitHub answers with a redirect to the log's storage, which fetch follows; the body is read as a stream
        const response = await octokit.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs', {
          ...where, job_id: jobId, request: { parseSuccessResponseBody: false },
        });
        return await readLogTail(response.data as unknown as ReadableStream<Uint8Array> | string | null, maxBytes);
      } catch (error) {
        if (unreadable(error)) return null;
        throw error;
      }
    },
  };
}
