/**
 * The environment that lets git authenticate to GitHub over HTTPS with an installation token, as
 * `GIT_CONFIG_*` variables, so the token is never in a URL, a config file or argv. Give it only to
 * commands that talk to the remote, and pass `secrets` on to runGit for redaction.
 */
export function authEnv(token: string | undefined, remoteUrl: string): { env: Record<string, string>; secrets: string[] } {
  if (token === undefined || token === '') return { env: {}, secrets: [] };
  const credentials = Buffer.from(`x-access-token:${token}`).toString('base64');
  const header = `AUTHORIZATION: basic ${credentials}`;
  return {
    // Scoped to the remote's origin: should anything rewrite the clone's config to point elsewhere,
    // the token is still sent only to the host it was issued for.
    env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${originOf(remoteUrl)}/.extraHeader`, GIT_CONFIG_VALUE_0: header },
    secrets: [token, credentials, header],
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url; // a local path: git sends no HTTP headers there anyway
  }
}
