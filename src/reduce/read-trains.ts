import { runGit } from '../git/run-git.js';
import { trainBranchPrefix } from '../names.js';
import type { PassPlace, ReduceDeps, ReducePass } from './reduce-pass.js';
import { parseTrain, type ReadTrain } from './train.js';

/** The base's merge trains as the synced clone sees them, oldest first, each with what CI says of its tip. */
export async function readTrains(deps: ReduceDeps, pass: ReducePass, place: PassPlace): Promise<ReadTrain[]> {
  const branches = await deps.workspace.remoteBranches(place.repo, trainBranchPrefix(pass.baseRef));
  const trains: ReadTrain[] = [];
  for (const { branch, sha } of branches) {
    const [time = '0', ...message] = (await runGit(['log', '-1', '--format=%ct%n%B', sha], { cwd: place.clone, env: place.env })).split('\n');
    const train = parseTrain(branch, sha, message.join('\n'));
    if (!train) {
      // not written by the app (or by an older version of it): leave it alone
      pass.log.warn({ branch }, 'a train branch without train trailers; ignored');
      continue;
    }
    trains.push({ train, ci: await pass.github.getChecks(sha), builtAt: Number(time) * 1000 });
  }
  return trains.sort((a, b) => a.train.number - b.train.number);
}
