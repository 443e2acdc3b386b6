import { createBubblewrapSandbox } from '../../src/sandbox/bubblewrap-sandbox.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { findProgram } from './find-program.js';

/**
 * The real bubblewrap sandbox for tests, never a stand-in (a test without bwrap fails). `readOnly`
 * shows test folders (stand-in CLIs) inside; `writable` lets a test's probes leave files outside
 * the worktree for the test to read.
 */
export async function testSandbox(options: { readOnly?: string[]; writable?: string[] } = {}): Promise<Sandbox> {
  const sandbox = await createBubblewrapSandbox({ bwrap: findProgram('bwrap'), readOnly: options.readOnly ?? [] });
  const writable = options.writable ?? [];
  if (writable.length === 0) return sandbox;
  return { run: (request) => sandbox.run({ ...request, writable: [...(request.writable ?? []), ...writable] }) };
}
