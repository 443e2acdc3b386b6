import { generateKeyPairSync } from 'node:crypto';
import { Probot, ProbotOctokit } from 'probot';
import { createApp, type AppOptions } from '../../src/index.js';
import { loadSettings, type Settings } from '../../src/settings/load-settings.js';

export const API = 'https://api.github.com';
export const APP_ID = 4242;
export const INSTALLATION_ID = 1001;
export const WEBHOOK_SECRET = 'test-webhook-secret';
export const TOKEN = 'ghs_installationTokenForTests0000000000';

let privateKey: string | undefined;
/** A fresh RSA key for the test run; no key is ever committed. */
export function testPrivateKey(): string {
  privateKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    .export({ type: 'pkcs1', format: 'pem' })
    .toString();
  return privateKey;
}

/**
 * Octokit as Probot builds it, with retries and throttling off so that tests see each call once and
 * fast. A function, because Probot's own throttle options would override plain object defaults.
 */
export const TestOctokit = ProbotOctokit.defaults((options: object) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return { ...loadSettings({}), appId: APP_ID, ...overrides };
}

/** Where the app's GitHub is, when not api.github.com: the local GitHub's API and the app's key there. */
export interface TestGitHubHost {
  /** e.g. `http://127.0.0.1:<port>/api/v3`, as Probot's `baseUrl` for GitHub Enterprise Server */
  baseUrl: string;
  privateKey: string;
}

/** A Probot with the app loaded, authenticating as a GitHub App: against api.github.com, or against `host` (the local GitHub). */
export async function createTestProbot(settings: Settings = testSettings(), options: AppOptions = {}, host?: TestGitHubHost): Promise<Probot> {
  const probot = new Probot({
    appId: APP_ID,
    privateKey: host?.privateKey ?? testPrivateKey(),
    ...(host ? { baseUrl: host.baseUrl } : {}),
    secret: WEBHOOK_SECRET,
    Octokit: TestOctokit,
    logLevel: 'fatal',
  });
  await probot.load(createApp(settings, { background: false, ...options }));
  return probot;
}
