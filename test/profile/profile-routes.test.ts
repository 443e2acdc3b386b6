import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { Profile } from '../../src/profile/profile.js';
import { profileRoutes } from '../../src/profile/profile-routes.js';
import { loadSettings, type Settings } from '../../src/settings/load-settings.js';

const TOKEN = 'a-dashboard-token-of-length';
let server: Server | undefined;

afterEach(async () => {
  await stop();
});

async function stop(): Promise<void> {
  if (!server) return;
  const closing = server;
  server = undefined;
  closing.closeAllConnections();
  await new Promise((resolve) => closing.close(resolve));
}

/** The routes behind a plain HTTP server; what they leave alone is answered 404, as Probot's server does. */
async function serve(env: Record<string, string>): Promise<{ url: string; profile: Profile }> {
  const settings: Settings = loadSettings(env);
  const profile = new Profile({ load: new Scheduler({ globalCap: 2 }), webBase: 'https://github.com' });
  const handle = profileRoutes(settings, profile);
  server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end('probot: not found');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, profile };
}

const login = (url: string, token: string) => fetch(url, {
  method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }),
});

describe('the profile’s HTTP routes', () => {
  it('serve /metrics to anyone unless METRICS_TOKEN is set, and then only with it', async () => {
    const open = await serve({});
    const response = await fetch(`${open.url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('# TYPE agent_mapreduce_runs_total counter');
    await stop();

    const closed = await serve({ METRICS_TOKEN: 'metrics-token-0123456789' });
    expect((await fetch(`${closed.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${closed.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${closed.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
  });

  it('leave the dashboard path to Probot (a 404) while DASHBOARD_TOKEN is not set', async () => {
    const { url } = await serve({});
    const response = await fetch(`${url}/agent-mapreduce/`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('probot: not found');
  });

  it('serve the dashboard at a configured path, behind a login form that sets a session cookie holding no token', async () => {
    const { url, profile } = await serve({ DASHBOARD_TOKEN: TOKEN, DASHBOARD_PATH: '/tools/agents' });
    profile.record({ repo: 'octo/widgets', issue: 4, type: 'seen', title: 'Teal <b>now</b>', failed: true });
    profile.record({ repo: 'octo/widgets', issue: 4, type: 'ended', work: 'map', outcome: 'failed', reason: 'The model API failed' });

    const bare = await fetch(`${url}/tools/agents`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([303, 'agents/']);
    const loginPage = await fetch(`${url}/tools/agents/`);
    expect(loginPage.status).toBe(401);
    const loginHtml = await loginPage.text();
    expect(loginHtml).toContain('<form method="post" action="login">');
    expect(loginHtml).not.toContain('Teal');

    const wrong = await login(`${url}/tools/agents/login`, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That token is not right.');
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const right = await login(`${url}/tools/agents/login`, TOKEN);
    expect([right.status, right.headers.get('location')]).toEqual([303, './']);
    const cookie = right.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^agent_mapreduce_dashboard=[\w-]+; HttpOnly; SameSite=Strict; Max-Age=2592000$/);
    expect(cookie).not.toContain(TOKEN);

    const page = await fetch(`${url}/tools/agents/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    const body = await page.text();
    expect(body).toContain(`<style nonce="${nonce}">`);
    expect(body).toContain('Teal &lt;b&gt;now&lt;/b&gt;');
    expect(body).toContain('href="runs/octo/widgets/4"');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");

    const forged = await fetch(`${url}/tools/agents/`, { headers: { cookie: 'agent_mapreduce_dashboard=forged' } });
    expect(forged.status).toBe(401);
    const bearer = await fetch(`${url}/tools/agents/runs/octo/widgets/4`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toMatch(/<li data-what="ended">[^]*map run: failed \(The model API failed\)/);
    const unknown = await fetch(`${url}/tools/agents/runs/octo/widgets/99`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('does not remember that run');
    const deepLink = await fetch(`${url}/tools/agents/runs/octo/widgets/4`, { redirect: 'manual' });
    expect(deepLink.status).toBe(303);
    expect(new URL(deepLink.headers.get('location')!, `${url}/tools/agents/runs/octo/widgets/4`).pathname).toBe('/tools/agents/');

    // the Ready for review and Where the time went pages keep the dashboard's access rules
    for (const [route, heading] of [['review', '<h1>Ready for review'], ['timeline', '<h1>Where the time went</h1>']] as const) {
      const address = `${url}/tools/agents/${route}`;
      const refused = await fetch(address, { redirect: 'manual' });
      expect([refused.status, new URL(refused.headers.get('location')!, address).pathname]).toEqual([303, '/tools/agents/']);
      expect((await fetch(address, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const allowed = await fetch(address, { headers: { cookie: cookie.split(';')[0]! } });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await allowed.text()).toContain(heading);
    }

    const logout = await fetch(`${url}/tools/agents/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: cookie.split(';')[0]! } });
    expect(logout.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await fetch(`${url}/tools/agents/`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    expect((await fetch(`${url}/tools/agentsx/`)).status).toBe(404);
  });

  it('refuse settings that would make the dashboard unsafe or unreachable, naming the variable', () => {
    expect(() => loadSettings({ DASHBOARD_TOKEN: 'short' })).toThrow(/DASHBOARD_TOKEN must be at least 16 characters/);
    expect(() => loadSettings({ DASHBOARD_TOKEN: TOKEN, DASHBOARD_PATH: 'agent-mapreduce/' })).toThrow(/DASHBOARD_PATH must be a path/);
    expect(() => loadSettings({ DASHBOARD_TOKEN: TOKEN, DASHBOARD_URL: 'javascript:alert(1)' })).toThrow(/DASHBOARD_URL/);
    expect(loadSettings({ DASHBOARD_TOKEN: TOKEN }).dashboard).toEqual({ token: TOKEN, path: '/agent-mapreduce', publicUrl: undefined });
    expect(loadSettings({}).dashboard).toBeUndefined();
    expect(loadSettings({ GHE_HOST: 'ghe.example.com' }).webBase).toBe('https://ghe.example.com');
  });
});
