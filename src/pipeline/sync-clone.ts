import type { GitHub } from '../github/port.js';
import type { Workspace } from '../git/workspace.js';
import type { RemoteRepo } from '../git/worktree.js';

/** Per clone folder: the fetch under way, and the one queued to start after it, that callers share. */
const flights = new Map<string, { running: Promise<void>; next?: Promise<void> }>();
/** Per clone folder: when the latest fetch that succeeded started (Date.now()). */
const lastFetched = new Map<string, number>();

/**
 * Brings the repository's cached clone up to date, with a read token of its own, and resolves once a
 * fetch that started after this call has finished (or a look at GitHub's branches found that the
 * clone already has them all, as they are). Jobs that start together (a wave of labelled
 * issues, a reduce pass) share that fetch instead of taking turns on the clone's lock with one
 * fetch and one token each.
 */
export function syncClone(github: GitHub, workspace: Workspace, repo: RemoteRepo, options: { startedSince?: number } = {}): Promise<void> {
  const key = workspace.cloneDir(repo);
  // `startedSince`: a fetch that started at or after then, and succeeded, is fresh enough
  if (options.startedSince !== undefined && (lastFetched.get(key) ?? -Infinity) >= options.startedSince) return Promise.resolve();
  const fetch = async () => {
    const started = Date.now();
    if (!(await fetchWouldBringNothing(github, workspace, repo))) await github.withGitToken('read', (token) => workspace.sync(repo, token));
    lastFetched.set(key, Math.max(started, lastFetched.get(key) ?? -Infinity));
  };
  const flight = flights.get(key);
  if (flight?.next) return flight.next;
  const after = flight ? flight.running.catch(() => {}) : Promise.resolve();
  const next = after.then(() => {
    const current = flights.get(key);
    if (current?.next === next) flights.set(key, { running: next });
    return fetch();
  });
  if (flight) flight.next = next;
  else flights.set(key, { running: next });
  const land = () => {
    const current = flights.get(key);
    if (current?.running === next && !current.next) flights.delete(key);
  };
  next.then(land, land);
  return next;
}

/**
 * GitHub's branches as of now, when a clone this process set up has exactly those already, are what a
 * fetch would bring. A clone not set up here (the first sync, or one after a restart) is fetched
 * without asking GitHub; a read GitHub does not answer means a fetch too.
 */
async function fetchWouldBringNothing(github: GitHub, workspace: Workspace, repo: RemoteRepo): Promise<boolean> {
  if (!workspace.setUpHere(repo)) return false;
  const heads = await github.branchHeads().catch(() => undefined);
  return heads !== undefined && (await workspace.matches(repo, heads).catch(() => false));
}
