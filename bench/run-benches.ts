/**
 * `npm run bench`: every benchmark of one process, each in a process of its own, one after another
 * (so that none runs beside another on these two cores). `npm run bench -- --fleet` runs the fleet's
 * benchmark alone: it starts Redis and five app processes, and takes several minutes.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Node's options, then the compiled benchmark next to this file. */
const ONE_PROCESS: string[][] = [
  ['map-bench.js'], ['reduce-bench.js'], ['--expose-gc', 'profile-bench.js'], ['sandbox-bench.js'], ['train-bench.js'], ['budget-sim.js'],
];
const FLEET: string[][] = [['fleet-bench.js']];

const benches = process.argv.includes('--fleet') ? FLEET : ONE_PROCESS;
for (const bench of benches) {
  const file = path.join(here, bench.at(-1)!);
  const run = spawnSync(process.execPath, [...bench.slice(0, -1), file], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`${bench.at(-1)} failed (${run.signal ?? `exit ${run.status}`})`);
    process.exit(run.status ?? 1);
  }
}
