import type { Logger } from 'pino';
import type { GitHub } from '../github/port.js';
import { runGit } from '../git/run-git.js';
import { EACH_ALONE } from './plan-trains.js';
import type { PassPlace } from './reduce-pass.js';
import type { ReadTrain } from './train.js';

/** At most this many failing check runs are read for annotations, and this many annotations of each. */
const LIMITS = { checks: 5, annotations: 50 };

/**
 * Which PR each red batch's failures point at: the one member whose own change (from where it left
 * the base to its head) touches a file that a failing check's failure annotations name, as a linter,
 * a type checker or a test reporter does. Only plain batches too big to test without each member at
 * once (more than `EACH_ALONE`) are looked at (a bisection round's trains follow from the first one's
 * colours), and a pointer is only a first guess: the planner tests without it beside its usual
 * trains, so a wrong one costs one CI run and never a round. Annotated files that no member changed
 * (the base's own) are passed over; when they were changed by more than one member, the train points
 * at nobody.
 */
export async function pointAtCulprits(
  github: Pick<GitHub, 'listChecks' | 'listAnnotations'>, place: PassPlace, trains: ReadTrain[], now: { baseSha: string; baseFailed: string[] }, log: Logger,
): Promise<Map<number, number>> {
  // a guess: if GitHub or git cannot answer, the bisection goes by colours alone
  return point(github, place, trains, now).catch((err: unknown) => {
    log.warn({ err }, 'the failing checks\' annotations were not read; bisecting by colours alone');
    return new Map<number, number>();
  });
}

async function point(
  github: Pick<GitHub, 'listChecks' | 'listAnnotations'>, place: PassPlace, trains: ReadTrain[], { baseSha, baseFailed }: { baseSha: string; baseFailed: string[] },
): Promise<Map<number, number>> {
  const pointers = new Map<number, number>();
  for (const { train, ci } of trains) {
    // (a train on an old base is abandoned, not bisected)
    if (ci.state !== 'failure' || train.bisect || train.baseSha !== baseSha || train.members.length <= EACH_ALONE) continue;
    // failing only what the base fails too, it is blamed on nobody (and waits without reading more)
    if (ci.failed.length > 0 && ci.failed.every((check) => baseFailed.includes(check))) continue;
    const paths = await failurePaths(github, train.sha, baseFailed);
    if (paths.size === 0) continue;
    const touches = await Promise.all(train.members.map(async (m) => (await ownChange(place, train.baseSha, m.headSha)).some((file) => paths.has(file))));
    const touching = train.members.filter((_, i) => touches[i]);
    if (touching.length === 1) pointers.set(train.number, touching[0]!.number);
  }
  return pointers;
}

/** The files named by the failure annotations of a commit's failing check runs (not those the base fails too). */
async function failurePaths(github: Pick<GitHub, 'listChecks' | 'listAnnotations'>, sha: string, baseFailed: string[]): Promise<Set<string>> {
  const failing = (await github.listChecks(sha))
    .flatMap((c) => (c.state === 'failure' && c.source.kind === 'check-run' && c.annotations > 0 && !baseFailed.includes(c.name) ? [c.source.id] : []))
    .slice(0, LIMITS.checks);
  const paths = new Set<string>();
  for (const id of failing) {
    for (const a of await github.listAnnotations(id, LIMITS.annotations)) if (a.level === 'failure') paths.add(a.path);
  }
  return paths;
}

/** The files a PR's head changes since it left the base; none when git cannot say (the head is not in the clone). */
async function ownChange(place: PassPlace, baseSha: string, headSha: string): Promise<string[]> {
  const listed = await runGit(['diff', '--name-only', '-z', '--no-renames', `${baseSha}...${headSha}`], { cwd: place.clone, env: place.env, expectedExitCodes: [128] });
  return listed.code === 0 ? listed.stdout.split('\0').filter(Boolean) : [];
}
