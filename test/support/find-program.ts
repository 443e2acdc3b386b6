import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The absolute path of a program on PATH. A missing program throws, so the test that needs it fails
 * (never skips); `npm test` provides it first through `scripts/provide-test-tools.sh`.
 */
export function findProgram(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`${name} is not on PATH: npm test installs it with scripts/provide-test-tools.sh; run that, or install it by hand`);
}
