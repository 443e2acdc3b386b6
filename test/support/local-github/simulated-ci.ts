/**
 * CI for the local GitHub: every push to a branch (and every merge into one) starts a check run,
 * which completes after `seconds` and fails when the pushed tree holds every file of `failWhen`.
 * Completion sends `check_run` and `check_suite` webhooks, as GitHub Actions would. The runs are Actions
 * jobs: a failed one has a summary, annotations and a log, as `failure` says.
 *
 *   const ci = new SimulatedCi(github, { seconds: 2, failWhen: ['broken.txt'] });
 *   ...
 *   ci.runs.filter((r) => r.branch.startsWith('agent-mapreduce/train/')).length;
 *   ci.stop();
 */
import type { LocalGitHub } from './local-github.js';
import type { Annotation, CheckRun, Repository } from './state.js';

export interface CiOptions {
  /** How long each run takes. */
  seconds: number;
  /** The run fails when the tree holds all of these files (never, when empty). */
  failWhen?: string[];
  /** The check's name (default `ci/test`). */
  name?: string;
  /** Decides instead of `failWhen`, reading the pushed tree's files. */
  fails?: (run: CiRun, read: (file: string) => Promise<string | undefined>) => Promise<boolean>;
  /** What a failed run reports: its summary, annotations and job log. */
  failure?: (run: CiRun) => CiFailure;
}

export interface CiFailure {
  summary?: string;
  annotations?: Annotation[];
  log?: string;
}

export interface CiRun {
  repository: string;
  branch: string;
  sha: string;
  startedAt: number;
  finishedAt?: number;
  conclusion?: 'success' | 'failure';
}

export class SimulatedCi {
  readonly runs: CiRun[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(private readonly github: LocalGitHub, private readonly options: CiOptions) {
    github.onBranchMoved = (repository, branch, sha) => this.#start(repository, branch, sha);
  }

  /** How long each run takes. */
  get seconds(): number {
    return this.options.seconds;
  }

  /** Runs still going. */
  get running(): number {
    return this.runs.filter((r) => r.conclusion === undefined).length;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.github.onBranchMoved = undefined;
  }

  #start(repository: Repository, branch: string, sha: string): void {
    if (this.#stopped) return;
    const fullName = `${repository.owner.login}/${repository.name}`;
    const now = this.github.state.now();
    const check: CheckRun = {
      id: this.github.state.nextId(), headSha: sha, name: this.options.name ?? 'ci/test', status: 'in_progress', conclusion: null,
      title: 'Running', summary: '', detailsUrl: null, startedAt: now, completedAt: null, actions: true,
    };
    repository.checkRuns.push(check);
    const run: CiRun = { repository: fullName, branch, sha, startedAt: Date.now() };
    this.runs.push(run);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#finish(repository, check, run).catch((err: unknown) => {
        // a run still reading its files when the test stopped CI and closed the GitHub finds the
        // repository gone: that is the end of the test, not a fault of the run
        if (!this.#stopped) this.github.problems.push(`the simulated CI run of ${run.repository}@${run.sha} failed: ${String(err)}`);
      });
    }, this.options.seconds * 1000);
    this.#timers.add(timer);
  }

  async #finish(repository: Repository, check: CheckRun, run: CiRun): Promise<void> {
    const failed = await this.#fails(run);
    if (this.#stopped) return;
    run.conclusion = failed ? 'failure' : 'success';
    run.finishedAt = Date.now();
    const report = failed ? this.options.failure?.(run) ?? {} : {};
    Object.assign(check, {
      status: 'completed', conclusion: run.conclusion, title: failed ? 'Failed' : 'Passed', completedAt: this.github.state.now(),
      summary: report.summary ?? '', annotations: report.annotations ?? [], log: report.log ?? `${failed ? 'Failed' : 'Passed'}\n`,
    });
    const actions = this.github.state.user('github-actions[bot]', 'Bot');
    const rendered = this.github.renderCheckRun(repository, check);
    this.github.sendEvent('check_run', repository, actions, {
      action: 'completed', check_run: { ...rendered, check_suite: { id: check.id, head_branch: run.branch, head_sha: run.sha } },
    });
    this.github.sendEvent('check_suite', repository, actions, {
      action: 'completed',
      check_suite: {
        id: check.id, head_branch: run.branch, head_sha: run.sha, status: 'completed', conclusion: run.conclusion,
        pull_requests: [], app: rendered.app, created_at: check.startedAt, updated_at: check.completedAt,
      },
    });
  }

  #fails(run: CiRun): Promise<boolean> {
    const read = (file: string) => this.github.readFile(run.repository, run.sha, file);
    if (this.options.fails) return this.options.fails(run, read);
    const markers = this.options.failWhen ?? [];
    return Promise.all(markers.map(read)).then((present) => markers.length > 0 && present.every((content) => content !== undefined));
  }
}
