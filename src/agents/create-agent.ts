import Anthropic from '@anthropic-ai/sdk';
import type { RepoConfig } from '../config/schema.js';
import { retryAfterMs } from './retry-after.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Settings } from '../settings/load-settings.js';
import type { Agent } from './agent.js';
import { emptyUsage } from './agent.js';
import { createAnthropicAgent } from './anthropic-agent.js';
import { createCommandAgent } from './command-agent.js';
import { priceOf } from './pricing.js';
import { createTools } from './tools/index.js';

export interface AgentFactoryOptions {
  settings: Settings;
  /** Where the model key and a command agent's passed variables are read from. */
  env: NodeJS.ProcessEnv;
  gitEnv?: Record<string, string>;
  /** Where commands and agent CLIs run. */
  sandbox: Sandbox;
  /** Told of every model API request's answer (0: none came). */
  onModelRequest?: (status: number) => void;
  /** Told when the model API answers 429, with how long it asked to wait. */
  onRateLimited?: (retryAfterMs: number) => void;
}

/** Builds the agent each repository's config asks for; one model client is shared by all runs. */
export function agentFactory(options: AgentFactoryOptions): (config: RepoConfig) => Agent {
  let client: Anthropic | undefined;
  const getClient = () => {
    client ??= new Anthropic({
      apiKey: options.env.ANTHROPIC_API_KEY ?? null,
      baseURL: options.env.ANTHROPIC_BASE_URL ?? null,
      maxRetries: 4,
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const response = await fetch(input, init).catch((error: unknown) => {
          options.onModelRequest?.(0);
          throw error;
        });
        options.onModelRequest?.(response.status);
        if (response.status === 429) options.onRateLimited?.(retryAfterMs(response.headers));
        return response;
      },
    });
    return client;
  };

  return (config) => {
    const { agent } = config;
    if (agent.kind === 'command') {
      const allowed = options.settings.agentEnvAllow;
      const refusedNames = agent.env.filter((name) => !allowed.some((v) => v.name === name));
      if (refusedNames.length > 0) {
        return failing(`\`agent.env\` names ${refusedNames.map((n) => `\`${n}\``).join(', ')}, which this deployment does not allow to be passed to an agent `
          + `(the operator's AGENT_ENV_ALLOW: ${allowed.length === 0 ? 'empty' : allowed.map((v) => v.name).join(', ')}).`);
      }
      return createCommandAgent({
        command: agent.command ?? '',
        ...(agent.preset ? { preset: agent.preset } : {}),
        passEnv: agent.env,
        allowedCommands: config.map.allowedCommands,
        envSources: Object.fromEntries(allowed.map((v) => [v.name, v.from])),
        env: options.env,
        sandbox: options.sandbox,
        hosts: options.settings.agentHosts,
        ...(agent.model ? { model: agent.model } : {}),
        ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
      });
    }
    if (!options.env.ANTHROPIC_API_KEY) {
      return failing('The built-in agent needs ANTHROPIC_API_KEY, and this deployment has none set.');
    }
    const model = agent.model ?? options.settings.defaultModel;
    return createAnthropicAgent({
      client: getClient(),
      model,
      tools: createTools(),
      allowedCommands: config.map.allowedCommands,
      sandbox: options.sandbox,
      price: priceOf(model, agent.prices),
      ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
    });
  };
}

function failing(summary: string): Agent {
  return { run: async () => ({ outcome: 'failed', summary, usage: emptyUsage() }) };
}
