import type { Actor } from './port.js';

/** Who the app's commits are by: its bot user, as GitHub shows it. */
export interface BotIdentity {
  name: string;
  email: string;
}

/** GitHub's no-reply address for an account, which links a commit to it without exposing an email. */
export function noreplyEmail(actor: Actor, domain: string): string {
  return `${actor.id}+${actor.login}@${domain}`;
}

export function coAuthoredBy(actor: Actor, domain: string): string {
  return `Co-authored-by: ${actor.login} <${noreplyEmail(actor, domain)}>`;
}
