import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { Probot, Server } from 'probot';
import type { Settings } from '../../src/settings/load-settings.js';
import { createApp, type AppOptions } from '../../src/index.js';
import { APP_ID, TestOctokit, WEBHOOK_SECRET, testPrivateKey, testSettings, type TestGitHubHost } from './test-probot.js';
import { freePort } from './free-port.js';

export function sign(body: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}


export interface RunningApp {
  url: string;
  /** Posts a webhook delivery the way GitHub does, signed with `secret` (the right one by default). */
  deliver(event: string, payload: unknown, options?: { secret?: string; id?: string }): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * The app behind Probot's real HTTP server on a free local port, on api.github.com or on `host` (the
 * local GitHub, whose webhook secret it then takes).
 */
export async function startApp(settings: Settings = testSettings(), options: AppOptions = {}, host?: TestGitHubHost & { secret: string }): Promise<RunningApp> {
  const port = await freePort();
  const server = new Server({
    host: '127.0.0.1',
    port,
    Probot: Probot.defaults({
      appId: APP_ID,
      privateKey: host?.privateKey ?? testPrivateKey(),
      secret: host?.secret ?? WEBHOOK_SECRET,
      ...(host ? { baseUrl: host.baseUrl } : {}),
      Octokit: TestOctokit,
      logLevel: 'fatal',
    }),
    log: pino({ level: 'silent' }),
    loggingOptions: { autoLogging: false },
  });
  await server.load(createApp(settings, { background: false, ...options }));
  await server.start();
  const url = `http://127.0.0.1:${port}`;
  let deliveries = 0;
  return {
    url,
    deliver(event, payload, options = {}) {
      const body = JSON.stringify(payload);
      return fetch(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': options.id ?? `delivery-${++deliveries}`,
          'x-hub-signature-256': sign(body, options.secret ?? host?.secret),
        },
        body,
      });
    },
    stop: () => server.stop(),
  };
}
