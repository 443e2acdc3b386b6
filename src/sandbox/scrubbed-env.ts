/**
 * The environment an agent's commands (and setup commands) run with: enough for ordinary tools to
 * work, and nothing secret. Built from an allow list, so a secret added to the deployment later
 * cannot leak by default.
 */
const passThrough = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TERM', 'TMPDIR', 'SHELL', 'USER', 'LOGNAME'];

export function scrubbedEnv(
  base: NodeJS.ProcessEnv,
  options: { home: string; extra?: Record<string, string | undefined> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of passThrough) {
    const value = base[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, {
    HOME: options.home,
    CI: 'true',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    NO_COLOR: '1',
  });
  for (const [name, value] of Object.entries(options.extra ?? {})) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}
