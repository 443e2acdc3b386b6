import type { BotIdentity } from './bot-identity.js';
import type { GitHub } from './port.js';

/**
 * The app's bot user (`<slug>[bot]`) with its no-reply email, looked up once per process: the slug
 * from the app itself, the user id through any installation.
 */
export function botIdentityResolver(appSlug: () => Promise<string>, noreplyDomain: string): (github: GitHub) => Promise<BotIdentity> {
  let identity: Promise<BotIdentity> | undefined;
  return (github) => {
    identity ??= (async () => {
      const login = `${await appSlug()}[bot]`;
      const id = await github.getUserId(login);
      return { name: login, email: `${id}+${login}@${noreplyDomain}` };
    })();
    identity.catch(() => {
      identity = undefined; // try again next time rather than remember a failure
    });
    return identity;
  };
}
