import type { Context } from 'probot';
import type { ConfigCache } from '../config/config-cache.js';

/** A push to the default branch may change the config file: read it afresh next time. */
export function onPush(services: { configs: ConfigCache }) {
  return async (context: Context<'push'>): Promise<void> => {
    const { ref, repository } = context.payload;
    if (ref !== `refs/heads/${repository.default_branch}`) return;
    if (repository.owner) services.configs.forget(repository.owner.login, repository.name);
  };
}
