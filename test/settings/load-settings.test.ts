import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_SETUP_HOSTS, loadSettings } from '../../src/settings/load-settings.js';

describe('loadSettings', () => {
  it('gives safe defaults for an empty environment', () => {
    expect(loadSettings({})).toEqual({
      workDir: path.join(os.tmpdir(), 'agent-mapreduce'),
      maxAgents: 4,
      defaultModel: 'claude-sonnet-5-5',
      reconcileIntervalMs: 300_000,
      appId: undefined,
      noreplyDomain: 'users.noreply.github.com',
      shutdownGraceMs: 60_000,
      webBase: 'https://github.com',
      dashboard: undefined,
      metricsToken: undefined,
      sandbox: { mode: 'bubblewrap', readOnly: [] },
      setupHosts: DEFAULT_SETUP_HOSTS,
      agentHosts: [],
      agentEnvAllow: [],
      writeLimits: { perMinute: 80, perHour: 450 },
      redisUrl: undefined,
      fleetLockMs: 30_000,
      role: 'all',
    });
    expect(DEFAULT_SETUP_HOSTS).toContain('registry.npmjs.org');
  });

  it('reads every variable', () => {
    expect(loadSettings({
      WORK_DIR: '/srv/agents', MAX_AGENTS: '12', DEFAULT_MODEL: 'claude-opus-4-5',
      RECONCILE_INTERVAL: '2m', APP_ID: '123', GHE_HOST: 'github.example.com', SHUTDOWN_GRACE: '2m',
      DASHBOARD_TOKEN: 'a-dashboard-token-of-length', DASHBOARD_PATH: '/tools/agents', DASHBOARD_URL: 'https://bots.example.com/x/agents/',
      METRICS_TOKEN: 'a-metrics-token-of-length',
      SANDBOX: 'off', SANDBOX_READ_ONLY: '/opt/tools:/srv/bin', SANDBOX_SETUP_HOSTS: 'registry.example.com, *.pkg.example.com:8443',
      SANDBOX_AGENT_HOSTS: 'llm.example.com', AGENT_ENV_ALLOW: 'CODEX_API_KEY, ANTHROPIC_API_KEY=CLAUDE_CODE_KEY',
      GITHUB_WRITES_PER_MINUTE: '30', GITHUB_WRITES_PER_HOUR: '2000', REDIS_URL: 'redis://redis.internal:6379/2', REDIS_LOCK_TTL: '10s',
      ROLE: 'worker',
    })).toEqual({
      workDir: '/srv/agents', maxAgents: 12, defaultModel: 'claude-opus-4-5',
      reconcileIntervalMs: 120_000, appId: 123, noreplyDomain: 'users.noreply.github.example.com', shutdownGraceMs: 120_000,
      webBase: 'https://github.example.com',
      dashboard: { token: 'a-dashboard-token-of-length', path: '/tools/agents', publicUrl: 'https://bots.example.com/x/agents' },
      metricsToken: 'a-metrics-token-of-length',
      sandbox: { mode: 'off', readOnly: ['/opt/tools', '/srv/bin'] },
      setupHosts: ['registry.example.com', '*.pkg.example.com:8443'],
      agentHosts: ['llm.example.com'],
      agentEnvAllow: [{ name: 'CODEX_API_KEY', from: 'CODEX_API_KEY' }, { name: 'ANTHROPIC_API_KEY', from: 'CLAUDE_CODE_KEY' }],
      writeLimits: { perMinute: 30, perHour: 2000 },
      redisUrl: 'redis://redis.internal:6379/2',
      fleetLockMs: 10_000,
      role: 'worker',
    });
  });

  it("refuses an agent variable allow list that names the app's own secrets, and sandbox settings it cannot use", () => {
    expect(() => loadSettings({ AGENT_ENV_ALLOW: 'CODEX_API_KEY,WEBHOOK_SECRET' })).toThrow(
      "AGENT_ENV_ALLOW may not read the app's own secrets (PRIVATE_KEY, PRIVATE_KEY_PATH, WEBHOOK_SECRET, GITHUB_TOKEN, "
      + 'GITHUB_CLIENT_SECRET, DASHBOARD_TOKEN, METRICS_TOKEN, ANTHROPIC_API_KEY); give an agent CLI a key of its own, e.g. ANTHROPIC_API_KEY=CLAUDE_CODE_KEY',
    );
    expect(() => loadSettings({ AGENT_ENV_ALLOW: 'DASHBOARD_TOKEN' })).toThrow('AGENT_ENV_ALLOW may not read');
    expect(() => loadSettings({ AGENT_ENV_ALLOW: 'ANTHROPIC_API_KEY' })).toThrow('AGENT_ENV_ALLOW may not read');
    expect(() => loadSettings({ AGENT_ENV_ALLOW: 'OPENAI_API_KEY=METRICS_TOKEN' })).toThrow('AGENT_ENV_ALLOW may not read');
    expect(() => loadSettings({ SANDBOX: 'none' })).toThrow('SANDBOX');
    expect(() => loadSettings({ SANDBOX_READ_ONLY: 'relative/bin' })).toThrow('SANDBOX_READ_ONLY must be absolute folders');
    expect(() => loadSettings({ SANDBOX_SETUP_HOSTS: 'http://registry.example.com/' })).toThrow('SANDBOX_SETUP_HOSTS must be host names');
    expect(() => loadSettings({ REDIS_URL: 'http://redis.internal:6379' })).toThrow('REDIS_URL must be a redis:// or rediss:// URL');
    expect(() => loadSettings({ ROLE: 'api' })).toThrow('ROLE must be web, worker or all');
    expect(() => loadSettings({ ROLE: 'web' })).toThrow('ROLE=web needs REDIS_URL');
    expect(loadSettings({ ROLE: 'all' }).role).toBe('all');
  });

  it.each([
    ['300', 300_000], ['45s', 45_000], ['1h', 3_600_000], ['90000ms', 90_000],
  ])('reads RECONCILE_INTERVAL=%s', (value, ms) => {
    expect(loadSettings({ RECONCILE_INTERVAL: value }).reconcileIntervalMs).toBe(ms);
  });

  it('names every bad variable and what it must look like, in one error', () => {
    expect(() => loadSettings({ MAX_AGENTS: 'many', RECONCILE_INTERVAL: 'soon' })).toThrow(
      'agent-mapreduce: invalid environment settings:\n' +
      '- MAX_AGENTS must be a whole number from 1 to 256 (got "many")\n' +
      '- RECONCILE_INTERVAL must be a duration such as 300, 300s, 5m or 1h (a bare number is seconds) (got "soon")',
    );
  });

  it('refuses a zero cap and a reconcile interval that would hammer GitHub', () => {
    expect(() => loadSettings({ MAX_AGENTS: '0' })).toThrow('MAX_AGENTS must be a whole number from 1 to 256 (got "0")');
    expect(() => loadSettings({ RECONCILE_INTERVAL: '1s' })).toThrow('RECONCILE_INTERVAL must be at least 10 seconds (got "1s")');
  });
});
