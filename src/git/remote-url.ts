/** A clone URL never carries credentials: the token goes to git through its environment only. */
export function refuseCredentialsInUrl(cloneUrl: string): void {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(cloneUrl)) return;
  const url = new URL(cloneUrl);
  if (url.username !== '' || url.password !== '') throw new Error('refusing a clone URL that carries credentials');
}

/** The transport a remote needs: `https` (or `http` for a test server), or `file` for a local path. */
export function protocolOf(remoteUrl: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(remoteUrl)?.[1]?.toLowerCase();
  return scheme ?? 'file';
}
