import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseCommand } from '../../src/commands/parse-command.js';
import { VERBS } from '../../src/commands/verbs.js';
import { parseConfig } from '../../src/config/parse-config.js';
import { sanitizeUntrusted } from '../../src/agents/sanitize-untrusted.js';

const seeded = { seed: 20261123, numRuns: 400 };
const commandish = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.array(fc.constantFrom('/agent', ' ', '\n', '```', '~~~', '> ', '<!--', '-->', '    ', 'revise', 'help', 'x', '\u200b', '\r\n', '\t'))
    .map((parts) => parts.join('')),
);

describe('bad input never breaks the app', () => {
  it('the command parser answers every string, binary junk included, with a command or nothing', () => {
    fc.assert(fc.property(commandish, (body) => {
      const command = parseCommand(body);
      expect(command === null || command.verb === 'unknown' || (VERBS as readonly string[]).includes(command.verb)).toBe(true);
    }), seeded);
  });

  it('a comment with a hundred commands runs only the first', () => {
    const body = Array.from({ length: 100 }, (_, i) => `/agent ${i % 2 ? 'stop' : 'retry'} number ${i}`).join('\n');
    expect(parseCommand(body)).toMatchObject({ verb: 'retry', text: expect.stringMatching(/^number 0\n\/agent stop number 1/) });
  });

  it('the config check answers any parsed file with a config or a list of problems, never an exception', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.record({ map: fc.jsonValue(), agent: fc.jsonValue(), reduce: fc.jsonValue(), label: fc.jsonValue() })), (raw) => {
      const result = parseConfig(raw);
      if (!result.ok) {
        expect(result.problems.length).toBeGreaterThan(0);
        for (const problem of result.problems) expect(typeof problem.message).toBe('string');
      }
    }), seeded);
  });

  it('removing a hidden piece never joins its neighbours into a new one', () => {
    expect(sanitizeUntrusted('a<!<!--x-->--b-->c')).toBe('ac');
    expect(sanitizeUntrusted('<!-\u200b-hidden-->shown')).toBe('shown');
  });

  it('sanitising issue text never lets hidden characters or comments through, and never grows past its cap', () => {
    const piecey = fc.array(fc.constantFrom('<!', '--', '>', '<!--', '-->', '\u200b', '\u202e', 'x', ' ', '<div hidden>', '</div>'))
      .map((parts) => parts.join(''));
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary' }), piecey), (text) => {
      const clean = sanitizeUntrusted(text, 1000);
      expect(clean).not.toMatch(/[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/);
      expect(clean).not.toContain('<!--');
      expect(clean.length).toBeLessThanOrEqual(1000 + 40);
    }), seeded);
  });
});
