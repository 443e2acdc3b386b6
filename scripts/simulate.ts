/**
 * `npm run simulate`: the whole map-reduce on one machine, without credentials. Starts the local GitHub,
 * a scripted model and the real app (`node lib/main.js`, as `npm start` does), opens N issues
 * (default 20, `--issues N`) whose edits overlap, labels them, approves every PR as a writer would,
 * and prints what happens; the last line is the summary as one JSON object. `--ci-seconds T` gives the
 * local GitHub CI of T seconds on every push, and the repository required checks: merges go in trains.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSystem, type System } from '../test/support/app-on-local-github.js';
import { editLine } from '../test/support/scripted-model.js';
import { SimulatedCi } from '../test/support/local-github/simulated-ci.js';

const REPO = 'demo-org/demo';
const MODULES = 5;
const LINES = 12;
/** Issue i edits module i % 5 at one of these lines: the fourth round edits the first round's lines again. */
const ROUND_LINES = [1, 5, 9, 1];
const TIME_LIMIT_MS = 10 * 60_000;

/** Zero-padded, so that no line's text is part of another's (an edit must match exactly once). */
const lineText = (module: number, line: number) => `module ${module} line ${String(line).padStart(2, '0')}`;

type Outcome = 'merged' | 'flagged' | 'failed';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { issues: { type: 'string', default: '20' }, 'ci-seconds': { type: 'string', default: '0' } } });
  const count = Number(values.issues);
  if (!Number.isInteger(count) || count < 1 || count > 500) throw new Error('--issues must be a whole number from 1 to 500');
  const ciSeconds = Number(values['ci-seconds']);
  if (!Number.isFinite(ciSeconds) || ciSeconds < 0 || ciSeconds > 3600) throw new Error('--ci-seconds must be a number of seconds from 0 (no CI) to 3600');
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const started = Date.now();
  const system = await startSystem({ entry: path.join(repoRoot, 'lib', 'main.js'), env: { MAX_AGENTS: '4', LOG_LEVEL: 'warn' } });
  const ci = ciSeconds > 0 ? new SimulatedCi(system.github, { seconds: ciSeconds }) : undefined;
  try {
    await run(system, count, started, ci);
  } catch (err) {
    console.error(`The app's last words:\n${system.app.output().split('\n').slice(-40).join('\n')}`);
    throw err;
  } finally {
    ci?.stop();
    await system.stop();
  }
}

async function run(system: System, count: number, started: number, ci: SimulatedCi | undefined): Promise<void> {
  const { github } = system;
  // with CI, required checks and merge trains as a real repository would have them; without, merges as soon as approved
  const reduce = ci ? 'reduce:\n  requireChecks: true\n' : 'reduce:\n  requireChecks: false\n';
  const files: Record<string, string> = { 'README.md': '# Demo\n', '.github/agent-mapreduce.yml': `map:\n  concurrency: 4\n${reduce}` };
  for (let m = 0; m < MODULES; m++) {
    files[`src/module-${m}.txt`] = Array.from({ length: LINES }, (_, l) => lineText(m, l)).join('\n') + '\n';
  }
  await github.createRepository(REPO, files);
  github.grant(REPO, 'maintainer', 'write');

  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  const row = (issue: number | string, event: string, detail = '') =>
    console.log(`${elapsed()}  ${String(issue).padEnd(6)} ${event.padEnd(14)} ${detail}`);
  console.log(`${'time'.padStart(7)}  ${'issue'.padEnd(6)} ${'event'.padEnd(14)} detail`);

  const issues: number[] = [];
  for (let i = 0; i < count; i++) {
    const m = i % MODULES;
    const line = ROUND_LINES[Math.floor(i / MODULES) % ROUND_LINES.length]!;
    const title = `Reword line ${line} of module ${m} (round ${Math.floor(i / MODULES) + 1})`;
    const body = editLine(`src/module-${m}.txt`, lineText(m, line), `${lineText(m, line)}, reworded by issue ${i + 1}`);
    const number = github.openIssue(REPO, { title, body });
    github.label(REPO, number, 'agent');
    issues.push(number);
    row(`#${number}`, 'labelled', title);
  }

  const outcomes = new Map<number, Outcome>();
  const seenPulls = new Set<number>();
  const approved = new Set<number>();
  while (outcomes.size < issues.length) {
    if (Date.now() - started > TIME_LIMIT_MS) throw new Error(`not done after ${TIME_LIMIT_MS / 60_000} minutes`);
    for (const number of issues) {
      if (outcomes.has(number)) continue;
      const issue = github.issue(REPO, number);
      const reason = failureReason(github.comments(REPO, number));
      if (issue.labels.includes('agent:failed') && !reason.includes('Running')) {
        outcomes.set(number, 'failed');
        row(`#${number}`, 'failed', reason);
        continue;
      }
      for (const pull of github.pullsFor(REPO, number)) {
        if (!seenPulls.has(pull.number)) {
          seenPulls.add(pull.number);
          row(`#${number}`, 'PR opened', `#${pull.number} ${pull.pull!.head}`);
        }
        if (pull.pull!.merged) {
          outcomes.set(number, 'merged');
          row(`#${number}`, 'merged', `#${pull.number} as ${pull.pull!.mergeCommitSha!.slice(0, 8)}`);
        } else if (pull.labels.includes('agent:conflict')) {
          outcomes.set(number, 'flagged');
          row(`#${number}`, 'flagged', `#${pull.number} conflicts`);
        } else if (pull.state === 'open' && !approved.has(pull.number)) {
          approved.add(pull.number);
          github.review(REPO, pull.number, { state: 'APPROVED', body: 'Approved by the simulation.' });
          row(`#${number}`, 'approved', `#${pull.number}`);
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const tally = (outcome: Outcome) => [...outcomes.values()].filter((o) => o === outcome).length;
  const summary = {
    issues: issues.length, prs: seenPulls.size, merged: tally('merged'), flagged: tally('flagged'), failed: tally('failed'),
    api_calls: github.apiCalls, wall_ms: Date.now() - started,
    ...(ci ? { ci_seconds: ci.seconds, ci_runs: ci.runs.length, train_ci_runs: ci.runs.filter((r) => r.branch.startsWith('agent-mapreduce/train/')).length } : {}),
  };
  if (github.problems.length > 0) console.log(`\nThe local GitHub saw ${github.problems.length} call(s) GitHub would refuse:\n${github.problems.join('\n')}`);
  console.log(`\n${summary.issues} issues: ${summary.prs} PRs, ${summary.merged} merged, ${summary.flagged} flagged, ${summary.failed} failed; ` +
    `${summary.api_calls} GitHub API calls in ${(summary.wall_ms / 1000).toFixed(1)} s` +
    (ci ? `; ${summary.train_ci_runs} merge-train CI runs of ${summary.ci_seconds} s` : ''));
  console.log(JSON.stringify(summary));
}

/** The reason line of the app's status comment, on one line. */
function failureReason(comments: Array<{ viaApp: boolean; body: string }>): string {
  const status = comments.filter((c) => c.viaApp).at(-1)?.body ?? '';
  const text = status.replace(/<!--[\s\S]*?-->/g, '').replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
