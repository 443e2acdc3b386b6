import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'agent_mapreduce_dashboard';
const SESSION_DAYS = 30;

/**
 * Who may see the dashboard (or /metrics): a request bearing the token (`Authorization: Bearer …`), or a browser
 * holding the session cookie the login form set. The cookie holds an HMAC of the token, never the
 * token itself, so a new token ends every session.
 */
export class TokenAccess {
  readonly #token: string;
  readonly #session: string;

  constructor(token: string) {
    this.#token = token;
    this.#session = createHmac('sha256', token).update('agent-mapreduce dashboard session').digest('base64url');
  }

  allows(req: IncomingMessage): boolean {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) return this.isToken(bearer);
    const cookie = cookies(req.headers.cookie).get(SESSION_COOKIE);
    return cookie !== undefined && sameText(cookie, this.#session);
  }

  /** Whether the request tried a bearer token at all (a script, which gets a 401 rather than the login page). */
  triedBearer(req: IncomingMessage): boolean {
    return /^Bearer\s/i.test(req.headers.authorization ?? '');
  }

  isToken(candidate: string): boolean {
    return sameText(candidate, this.#token);
  }

  /** The Set-Cookie header that opens a session; no Path, so it covers the dashboard wherever a proxy mounts it. */
  sessionCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=${this.#session}; HttpOnly; SameSite=Strict; Max-Age=${SESSION_DAYS * 86_400}${secure ? '; Secure' : ''}`;
  }

  static clearedCookie(): string {
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

/** Compares in time that does not depend on where the texts differ. */
function sameText(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function cookies(header: string | undefined): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) found.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return found;
}
