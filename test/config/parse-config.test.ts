import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/config/parse-config.js';
import { mergeConfigLayers } from '../../src/config/merge-config-layers.js';

describe('parseConfig', () => {
  it('fills every default for a missing file', () => {
    const result = parseConfig(null);
    expect(result).toEqual({
      ok: true,
      config: {
        label: 'agent',
        map: {
          concurrency: 2, setup: [], allowedCommands: [], timeoutMinutes: 30, plan: false,
          blockedPaths: ['.github/workflows/**'], priorityLabels: ['agent:priority'], statusComment: 'when-needed',
        },
        agent: { kind: 'anthropic', maxTurns: 60, maxCostUsd: 3, env: [], prices: {} },
        reduce: {
          enabled: true, approvals: 1, requireChecks: true, mergeMethod: 'squash', batchSize: 8, autoResolve: false,
          priorityLabels: ['agent:priority'], deleteBranch: true,
        },
        revise: { maxCiRounds: 2 },
      },
    });
  });

  it('keeps what the file sets and defaults the rest of the same section', () => {
    const result = parseConfig({ map: { concurrency: 5, allowedCommands: ['npm test'] }, reduce: { mergeMethod: 'rebase' } });
    expect(result.ok && result.config.map).toMatchObject({ concurrency: 5, allowedCommands: ['npm test'], timeoutMinutes: 30 });
    expect(result.ok && result.config.reduce).toMatchObject({ mergeMethod: 'rebase', approvals: 1 });
  });

  it('lists each problem with its key path, typos included', () => {
    expect(parseConfig({ map: { concurency: 3 }, agent: { maxTurns: 0 }, lable: 'x' })).toEqual({
      ok: false,
      problems: [
        { path: 'map', message: 'Unrecognized key: "concurency"' },
        { path: 'agent.maxTurns', message: 'Too small: expected number to be >=1' },
        { path: '(file)', message: 'Unrecognized key: "lable"' },
      ],
    });
  });

  it('asks a command agent for its command', () => {
    expect(parseConfig({ agent: { kind: 'command' } })).toEqual({
      ok: false, problems: [{ path: 'agent.command', message: 'kind: command needs a command or a preset' }],
    });
    expect(parseConfig({ agent: { kind: 'command', preset: 'claude' } }).ok).toBe(true);
  });

  it('never lets a repository pass the app’s own secrets or process controls to an agent', () => {
    expect(parseConfig({ agent: { kind: 'command', preset: 'claude', env: ['ANTHROPIC_API_KEY', 'PRIVATE_KEY', 'home', 'GIT_CONFIG_GLOBAL'] } })).toEqual({
      ok: false,
      problems: ['agent.env.1', 'agent.env.2', 'agent.env.3'].map((path) => ({
        path, message: 'is one of the app’s own secrets or controls how commands run, and is never passed to an agent',
      })),
    });
  });

  it('says so when the file is not a mapping at all', () => {
    expect(parseConfig(['a', 'list'])).toEqual({
      ok: false, problems: [{ path: '(file)', message: 'Invalid input: expected object, received array' }],
    });
  });
});

describe('mergeConfigLayers', () => {
  it('merges sections key by key, lets lists of the repository replace the organisation’s, drops _extends', () => {
    const org = { map: { concurrency: 1, allowedCommands: ['npm test'] }, reduce: { approvals: 2 } };
    const repo = { _extends: '.github', map: { allowedCommands: ['make check'] } };
    expect(mergeConfigLayers([org, repo])).toEqual({
      map: { concurrency: 1, allowedCommands: ['make check'] },
      reduce: { approvals: 2 },
    });
  });
});
