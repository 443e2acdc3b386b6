import type { RepoConfig } from '../config/schema.js';

export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number | undefined;
  cacheWritePerMTok?: number | undefined;
}

/** USD per million tokens, by model-name prefix, most specific first. Config `agent.prices` overrides. */
const table: Array<[prefix: string, price: Price]> = [
  ['claude-opus-4-0', { inputPerMTok: 15, outputPerMTok: 75 }],
  ['claude-opus-4-1', { inputPerMTok: 15, outputPerMTok: 75 }],
  ['claude-opus-4-2025', { inputPerMTok: 15, outputPerMTok: 75 }],
  ['claude-opus', { inputPerMTok: 5, outputPerMTok: 25 }],
  ['claude-sonnet', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-haiku-4', { inputPerMTok: 1, outputPerMTok: 5 }],
  ['claude-3-5-haiku', { inputPerMTok: 0.8, outputPerMTok: 4 }],
];
const fallback = table.find(([prefix]) => prefix === 'claude-sonnet')![1];

export function priceOf(model: string, overrides: RepoConfig['agent']['prices'] = {}): Price {
  return overrides[model] ?? table.find(([prefix]) => model.startsWith(prefix))?.[1] ?? fallback;
}

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** Cache reads cost a tenth of input and cache writes a quarter more, unless the price says otherwise. */
export function costUsd(price: Price, tokens: TokenCounts): number {
  const cacheRead = price.cacheReadPerMTok ?? price.inputPerMTok * 0.1;
  const cacheWrite = price.cacheWritePerMTok ?? price.inputPerMTok * 1.25;
  return (tokens.inputTokens * price.inputPerMTok + tokens.outputTokens * price.outputPerMTok +
    tokens.cacheReadTokens * cacheRead + tokens.cacheWriteTokens * cacheWrite) / 1_000_000;
}
