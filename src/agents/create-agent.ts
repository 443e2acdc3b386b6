import type { RepoConfig } from '../config/schema.js';
import type { Agent } from './agent.js';
import { emptyUsage } from './agent.js';

/**
 * The agent a repository's config asks for. The built-in and command agents land with their own
 * issue; until then every run ends `failed` with a sentence that says so, and nothing is pushed.
 */
export function createAgent(config: RepoConfig): Agent {
  return {
    async run() {
      return {
        outcome: 'failed',
        summary: `The ${config.agent.kind} agent is not available in this version of agent-mapreduce yet.`,
        usage: emptyUsage(),
      };
    },
  };
}
