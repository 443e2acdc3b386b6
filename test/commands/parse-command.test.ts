import { describe, expect, it } from '@jest/globals';
import { parseCommand, type Command } from '../../src/commands/parse-command.js';

const cases: Array<[string, string, Command | null]> = [
  ['a bare verb', '/agent help', { verb: 'help', text: '' }],
  ['a verb with text', '/agent revise use a Map here', { verb: 'revise', text: 'use a Map here' }],
  ['upper-case command and verb', '/AGENT Status', { verb: 'status', text: '' }],
  ['tabs and extra spaces', '/agent \t  revise   \t  spaced out  ', { verb: 'revise', text: 'spaced out' }],
  ['up to three leading spaces', '   /agent retry', { verb: 'retry', text: '' }],
  ['the rest of the comment belongs to the command', '/agent revise first line\nsecond line\n\n- a list', { verb: 'revise', text: 'first line\nsecond line\n\n- a list' }],
  ['a command after prose', 'Thanks!\n\n/agent go keep the old API', { verb: 'go', text: 'keep the old API' }],
  ['Windows line endings', 'hi\r\n/agent stop\r\nplease', { verb: 'stop', text: 'please' }],
  ['the first of several commands wins', '/agent hold\n/agent merge', { verb: 'hold', text: '/agent merge' }],
  ['trailing punctuation on the verb', '/agent help!', { verb: 'help', text: '' }],
  ['an unknown verb', '/agent frobnicate now', { verb: 'unknown', word: 'frobnicate', text: 'now' }],
  ['the command word alone', '/agent', { verb: 'unknown', word: '', text: '' }],
  ['no command at all', 'LGTM, ship it', null],
  ['an empty comment', '', null],
  ['the command mid-line', 'you could say /agent help here', null],
  ['inline code', 'type `/agent help` to see the list', null],
  ['a longer word', '/agents help', null],
  ['a hyphenated word', '/agent-x help', null],
  ['a block quote', '> /agent retry\n\nI quoted that', null],
  ['a fenced code block', '```\n/agent help\n```', null],
  ['a tilde fence with a language', '~~~md\n/agent help\n~~~', null],
  ['a command after a fenced block closes', '```\n/agent stop\n```\n/agent status', { verb: 'status', text: '' }],
  ['a fence closed only by an equal or longer fence', '````\n```\n/agent stop\n````\n/agent help', { verb: 'help', text: '' }],
  ['an indented code block', 'Example:\n\n    /agent retry\n', null],
  ['four-space indentation right after a paragraph line is not code', 'text\n    /agent retry', null],
  ['an HTML comment', '<!-- /agent help -->', null],
  ['a multi-line HTML comment', '<!--\n/agent stop\n-->\n/agent status', { verb: 'status', text: '' }],
  ['a leading zero-width space is not a command', '\u200b/agent help', null],
];

describe('parseCommand', () => {
  it.each(cases)('%s', (_name, body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it('finds a command after a megabyte of prose, and keeps all of the text after it', () => {
    const prose = 'words '.repeat(175_000);
    const body = `${prose}\n/agent revise ${'x'.repeat(1000)}`;
    expect(body.length).toBeGreaterThan(1_000_000);
    const command = parseCommand(body);
    expect(command).toEqual({ verb: 'revise', text: 'x'.repeat(1000) });
  });

  it('reads a megabyte comment of nothing but fences and quotes without finding a command', () => {
    const body = '```\n/agent help\n```\n> /agent stop\n'.repeat(35_000);
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(parseCommand(body)).toBeNull();
  });
});
