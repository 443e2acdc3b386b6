import { describe, expect, it } from '@jest/globals';
import { capitalise, clip, formatDuration, redact } from '../src/text.js';

describe('the text the app shows people', () => {
  it('says how long something took the same way everywhere', () => {
    expect([0, 400, 2000, 9_940, 45_000, 12 * 60_000, 3.5 * 3_600_000, 2.1 * 86_400_000].map(formatDuration))
      .toEqual(['0 s', '0.4 s', '2 s', '9.9 s', '45 s', '12 min', '3.5 h', '2.1 d']);
  });

  it('clips to at most the length asked for, marking the cut', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('a sentence that goes on', 10)).toBe('a sentenc…');
    expect(clip('a sentence that goes on', 10)).toHaveLength(10);
  });

  it('redacts every occurrence of every secret, and never an empty one', () => {
    expect(redact('key k1 and k1 again, k2', ['k1', 'k2', ''])).toBe('key *** and *** again, ***');
  });

  it('capitalises the first letter only', () => {
    expect(capitalise('the rebase failed: Why')).toBe('The rebase failed: Why');
  });
});
