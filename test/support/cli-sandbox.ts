import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { testSandbox } from './test-sandbox.js';

/** The project's node_modules, where the agent CLIs the tests run are installed (dev dependencies). */
export const NODE_MODULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules');

export interface CliSandbox {
  /** The real sandbox, with node_modules visible (read-only) so that the CLIs can run inside. */
  sandbox: Sandbox;
  /** Every `host:port` the sandbox's proxy refused a command, in order: a CLI reaching for more than its API shows here. */
  refused: string[];
  /** Puts PATH back as it was. */
  restore(): void;
}

/**
 * For tests of a real agent CLI: node_modules/.bin first on PATH (the sandbox keeps the caller's
 * PATH), node_modules readable inside, and the refused connections recorded.
 */
export async function startCliSandbox(): Promise<CliSandbox> {
  const inner = await testSandbox({ readOnly: [NODE_MODULES] });
  const savedPath = process.env.PATH;
  process.env.PATH = `${path.join(NODE_MODULES, '.bin')}${path.delimiter}${savedPath ?? ''}`;
  const refused: string[] = [];
  return {
    sandbox: {
      async run(request) {
        const result = await inner.run(request);
        if ('refusedHosts' in result && result.refusedHosts) refused.push(...result.refusedHosts);
        return result;
      },
    },
    refused,
    restore: () => {
      process.env.PATH = savedPath;
    },
  };
}
