import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_WRITE_LIMITS, type WriteLimits } from '../github/write-budget.js';
import type { SandboxSettings } from '../sandbox/start-sandbox.js';

/** Process-wide settings, read once from the environment at start-up. */
export interface Settings {
  /** Where the cached bare clones and the worktrees live. */
  workDir: string;
  /** How many agents may run at once in this process, across all repositories. */
  maxAgents: number;
  /** The model the built-in agent uses when a repository's config names none. */
  defaultModel: string;
  /** How often the reconcile pass rebuilds the work queue from GitHub, in milliseconds. */
  reconcileIntervalMs: number;
  /** The GitHub App's id (Probot's APP_ID): only comments this app wrote are read back as its state. */
  appId: number | undefined;
  /** On SIGTERM, how long running agents may finish before they are interrupted (and resumed after the restart). */
  shutdownGraceMs: number;
  /** The domain of GitHub's no-reply commit emails: `users.noreply.<GHE_HOST>` on GitHub Enterprise Server. */
  noreplyDomain: string;
  /** GitHub's web address, for links: `https://github.com` or the Enterprise Server's. */
  webBase: string;
  /** The dashboard; off (undefined) unless DASHBOARD_TOKEN is set. */
  dashboard: DashboardSettings | undefined;
  /** When set, /metrics answers only requests bearing it. */
  metricsToken: string | undefined;
  /** How repository and agent code is confined (SANDBOX, SANDBOX_READ_ONLY). */
  sandbox: SandboxSettings;
  /** Hosts `map.setup` commands may reach (SANDBOX_SETUP_HOSTS): package registries by default. */
  setupHosts: string[];
  /** Hosts every command agent may reach on top of its preset's model API (SANDBOX_AGENT_HOSTS). */
  agentHosts: string[];
  /**
   * The variables a repository's `agent.env` may pass to a command agent (AGENT_ENV_ALLOW), each with
   * the deployment variable its value is read from (`NAME=SOURCE`; plain `NAME` reads `NAME`).
   */
  agentEnvAllow: AgentVariable[];
  /** Notifying GitHub writes per installation (GITHUB_WRITES_PER_MINUTE, GITHUB_WRITES_PER_HOUR): under GitHub's 80 and 500. */
  writeLimits: WriteLimits;
  /**
   * A Redis server shared by the processes of a fleet (REDIS_URL): reduce passes then run one at a
   * time per repository and base across all of them. Unset: one process, no server (the default).
   */
  redisUrl: string | undefined;
  /** In a fleet, how long a dead process's issue locks and run slots keep others waiting (REDIS_LOCK_TTL). */
  fleetLockMs: number;
  /**
   * What this process of a fleet does (ROLE): `web` receives webhooks and passes them to the fleet's
   * workers, runs no job and no reconcile; `worker` runs jobs, reduce passes and reconciles; `all`
   * (the default, and the only choice without REDIS_URL) does everything.
   */
  role: 'web' | 'worker' | 'all';
}

export interface AgentVariable {
  /** The name the agent CLI sees. */
  name: string;
  /** The deployment's variable it is read from. */
  from: string;
}

/** Package registries: what `npm ci`, `pip install`, `cargo fetch`, `go mod download`, `bundle` and Maven reach. */
export const DEFAULT_SETUP_HOSTS = [
  'registry.npmjs.org', 'registry.yarnpkg.com', 'pypi.org', 'files.pythonhosted.org', 'proxy.golang.org', 'sum.golang.org',
  'index.crates.io', 'static.crates.io', 'crates.io', 'rubygems.org', 'index.rubygems.org', 'repo.maven.apache.org',
  'repo1.maven.org',
];

/** The app's own secrets: no operator setting can hand them to an agent. */
const NEVER_PASSED = [
  'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'WEBHOOK_SECRET', 'GITHUB_TOKEN', 'GITHUB_CLIENT_SECRET', 'DASHBOARD_TOKEN', 'METRICS_TOKEN',
  'ANTHROPIC_API_KEY',
];

export interface DashboardSettings {
  token: string;
  /** Where this process serves it, e.g. `/agent-mapreduce`. */
  path: string;
  /** Its public address (behind any proxy and path prefix), for the check runs' Details links. */
  publicUrl: string | undefined;
}

export const DEFAULT_MODEL = 'claude-sonnet-5-5';

const durationPattern = /^(\d+)\s*(ms|s|m|h)?$/i;
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const anyDuration = z.string().trim().regex(durationPattern, 'must be a duration such as 300, 300s, 5m or 1h (a bare number is seconds)')
  .transform((text) => {
    const [, amount, unit] = durationPattern.exec(text)!;
    return Number(amount) * unitMs[(unit ?? 's').toLowerCase()]!;
  });
const duration = anyDuration.refine((ms) => ms >= 10_000, 'must be at least 10 seconds');

const wholeNumber = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, `must be a whole number from ${min} to ${max}`).transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`);

const envSchema = z.object({
  WORK_DIR: z.string().trim().min(1).optional(),
  MAX_AGENTS: wholeNumber(1, 256).optional(),
  DEFAULT_MODEL: z.string().trim().min(1).optional(),
  RECONCILE_INTERVAL: duration.optional(),
  APP_ID: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  GHE_HOST: z.string().trim().min(1).optional(),
  SHUTDOWN_GRACE: duration.optional(),
  GHE_PROTOCOL: z.enum(['http', 'https']).optional(),
  DASHBOARD_TOKEN: z.string().trim().min(16, 'must be at least 16 characters (use a long random string)').optional(),
  DASHBOARD_PATH: z.string().trim().regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as /agent-mapreduce or /tools/agents').optional(),
  DASHBOARD_URL: z.url({ protocol: /^https?$/ }).optional(),
  METRICS_TOKEN: z.string().trim().min(16, 'must be at least 16 characters (use a long random string)').optional(),
  SANDBOX: z.enum(['bubblewrap', 'off']).optional(),
  SANDBOX_READ_ONLY: z.string().transform(list(':')).refine((dirs) => dirs.every((d) => path.isAbsolute(d)), 'must be absolute folders separated by `:`').optional(),
  SANDBOX_SETUP_HOSTS: z.string().transform(list(',')).refine((hosts) => hosts.every(isHostEntry), 'must be host names (host, host:port or *.domain) separated by commas').optional(),
  SANDBOX_AGENT_HOSTS: z.string().transform(list(',')).refine((hosts) => hosts.every(isHostEntry), 'must be host names (host, host:port or *.domain) separated by commas').optional(),
  GITHUB_WRITES_PER_MINUTE: wholeNumber(1, 100_000).optional(),
  GITHUB_WRITES_PER_HOUR: wholeNumber(1, 1_000_000).optional(),
  // short in tests: a dead process's issues wait this long; renewals every third of it must keep up
  REDIS_LOCK_TTL: anyDuration.refine((ms) => ms >= 1_000 && ms <= 600_000, 'must be from 1 second to 10 minutes').optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  ROLE: z.enum(['web', 'worker', 'all'], { error: 'must be web, worker or all' }).optional(),
  AGENT_ENV_ALLOW: z.string().transform(list(','))
    .refine((entries) => entries.every((e) => /^[A-Za-z_][A-Za-z0-9_]*(=[A-Za-z_][A-Za-z0-9_]*)?$/.test(e)), 'must be NAME or NAME=SOURCE entries separated by commas')
    .transform((entries) => entries.map(agentVariable))
    .refine((vars) => !vars.some((v) => NEVER_PASSED.includes(v.from)),
      `may not read the app's own secrets (${NEVER_PASSED.join(', ')}); give an agent CLI a key of its own, e.g. ANTHROPIC_API_KEY=CLAUDE_CODE_KEY`)
    .optional(),
});

function agentVariable(entry: string): AgentVariable {
  const [name, from = name] = entry.split('=') as [string, string?];
  return { name, from };
}

function list(separator: string) {
  return (text: string) => text.split(separator).map((item) => item.trim()).filter((item) => item !== '');
}

function isHostEntry(entry: string): boolean {
  return /^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$/.test(entry) || /^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(entry);
}

/**
 * Reads and validates the process settings. Throws one error naming every bad variable, with what
 * it must look like, so that a misconfigured deployment fails at start-up with a sentence to act on.
 */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `- ${name} ${issue.message} (got ${JSON.stringify(env[name])})`;
    });
    throw new Error(`agent-mapreduce: invalid environment settings:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.ROLE && e.ROLE !== 'all' && !e.REDIS_URL) {
    throw new Error(`agent-mapreduce: invalid environment settings:\n- ROLE=${e.ROLE} needs REDIS_URL: a fleet's web and worker processes meet in Redis (leave ROLE unset for one process)`);
  }
  return {
    workDir: path.resolve(e.WORK_DIR ?? path.join(os.tmpdir(), 'agent-mapreduce')),
    maxAgents: e.MAX_AGENTS ?? 4,
    defaultModel: e.DEFAULT_MODEL ?? DEFAULT_MODEL,
    reconcileIntervalMs: e.RECONCILE_INTERVAL ?? 5 * 60_000,
    appId: e.APP_ID,
    noreplyDomain: `users.noreply.${e.GHE_HOST ?? 'github.com'}`,
    shutdownGraceMs: e.SHUTDOWN_GRACE ?? 60_000,
    webBase: e.GHE_HOST ? `${e.GHE_PROTOCOL ?? 'https'}://${e.GHE_HOST}` : 'https://github.com',
    dashboard: e.DASHBOARD_TOKEN
      ? { token: e.DASHBOARD_TOKEN, path: e.DASHBOARD_PATH ?? '/agent-mapreduce', publicUrl: e.DASHBOARD_URL?.replace(/\/+$/, '') }
      : undefined,
    metricsToken: e.METRICS_TOKEN,
    sandbox: { mode: e.SANDBOX ?? 'bubblewrap', readOnly: e.SANDBOX_READ_ONLY ?? [] },
    setupHosts: e.SANDBOX_SETUP_HOSTS ?? DEFAULT_SETUP_HOSTS,
    agentHosts: e.SANDBOX_AGENT_HOSTS ?? [],
    agentEnvAllow: e.AGENT_ENV_ALLOW ?? [],
    writeLimits: {
      perMinute: e.GITHUB_WRITES_PER_MINUTE ?? DEFAULT_WRITE_LIMITS.perMinute, perHour: e.GITHUB_WRITES_PER_HOUR ?? DEFAULT_WRITE_LIMITS.perHour,
    },
    redisUrl: e.REDIS_URL,
    fleetLockMs: e.REDIS_LOCK_TTL ?? 30_000,
    role: e.ROLE ?? 'all',
  };
}
