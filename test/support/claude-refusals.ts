import type { Sandbox, SandboxResult } from '../../src/sandbox/sandbox.js';

/**
 * The real sandbox, with the connections its allow-listing proxy refused made visible to the test:
 * the sandbox names them only when a command fails, so the command is made to fail on purpose
 * after printing its own exit status, and the result is given back as the command left it.
 * (Better: the sandbox result could carry the refused hosts; see the Claude Code test's notes.)
 */
export function sandboxNoticingRefusals(inner: Sandbox): { sandbox: Sandbox; refused: string[] } {
  const refused: string[] = [];
  const marker = `__exit_status_${process.pid}_${Date.now()}__`;
  const sandbox: Sandbox = {
    async run(request) {
      const result = await inner.run({
        ...request,
        command: `${request.command}\nstatus=$?\nprintf '\\n%s%s\\n' '${marker}' "$status"\nexit 86`,
      });
      if (result.kind !== 'failed' || result.exitCode !== 86) return result;
      const at = result.output.lastIndexOf(`\n${marker}`);
      if (at === -1) return result;
      const tail = result.output.slice(at + 1 + marker.length);
      const exitCode = Number(/^(\d+)/.exec(tail)?.[1] ?? 1);
      const noted = /\[sandbox: refused connections to (.*): not on the allow list\]/.exec(tail)?.[1];
      if (noted) refused.push(...noted.split(', '));
      const restored: SandboxResult = { ...result, kind: exitCode === 0 ? 'ok' : 'failed', exitCode, output: result.output.slice(0, at) };
      return restored;
    },
  };
  return { sandbox, refused };
}
