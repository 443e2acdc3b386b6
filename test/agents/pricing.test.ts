import { describe, expect, it } from '@jest/globals';
import { costUsd, priceOf } from '../../src/agents/pricing.js';

describe('pricing', () => {
  it('prices by model family, cache reads at a tenth of input and cache writes at a quarter more', () => {
    const tokens = { inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 2_000_000, cacheWriteTokens: 400_000 };
    expect(costUsd(priceOf('claude-sonnet-5-5'), tokens)).toBeCloseTo(3 + 1.5 + 0.6 + 1.5);
    expect(costUsd(priceOf('claude-opus-4-1-20250805'), { ...tokens, cacheReadTokens: 0, cacheWriteTokens: 0 })).toBeCloseTo(15 + 7.5);
    expect(costUsd(priceOf('claude-haiku-4-5'), { ...tokens, cacheReadTokens: 0, cacheWriteTokens: 0 })).toBeCloseTo(1 + 0.5);
  });

  it('takes a price from the config over the table, and a Sonnet price for a model it does not know', () => {
    const overrides = { 'my-model': { inputPerMTok: 2, outputPerMTok: 8, cacheReadPerMTok: 0 } };
    expect(priceOf('my-model', overrides)).toEqual(overrides['my-model']);
    expect(costUsd(priceOf('my-model', overrides), { inputTokens: 500_000, outputTokens: 0, cacheReadTokens: 1_000_000, cacheWriteTokens: 0 })).toBeCloseTo(1);
    expect(priceOf('some-new-model')).toEqual(priceOf('claude-sonnet-5-5'));
  });
});
