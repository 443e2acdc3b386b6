import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Settings } from '../settings/load-settings.js';
import { TokenAccess } from './dashboard/access.js';
import { renderDashboard } from './dashboard/render-dashboard.js';
import { renderLogin } from './dashboard/render-login.js';
import { renderReadyPage } from './dashboard/render-ready.js';
import { renderRunPage } from './dashboard/render-run.js';
import { renderTimelinePage } from './dashboard/render-timeline.js';
import { html, renderPage } from './dashboard/html.js';
import type { Profile } from './profile.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const MAX_FORM_BYTES = 4096;

/**
 * The profile's HTTP routes, for Probot's server (`addHandler`): `/metrics` for Prometheus, and
 * the dashboard under its path when DASHBOARD_TOKEN is set (the board, `review`, `timeline` and the runs' records). Anything else is left to Probot.
 */
export function profileRoutes(settings: Pick<Settings, 'dashboard' | 'metricsToken'>, profile: Profile): Handler {
  const metricsAccess = settings.metricsToken ? new TokenAccess(settings.metricsToken) : undefined;
  const dashboard = settings.dashboard ? dashboardRoutes(settings.dashboard, profile) : undefined;
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/metrics' && req.method === 'GET') {
      if (metricsAccess && !metricsAccess.allows(req)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }).end('A bearer token (METRICS_TOKEN) is required.\n');
        return true;
      }
      const body = await profile.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': profile.metrics.registry.contentType, 'cache-control': 'no-store' }).end(body);
      return true;
    }
    return dashboard ? dashboard(req, res, path) : false;
  };
}

function dashboardRoutes(settings: NonNullable<Settings['dashboard']>, profile: Profile) {
  const access = new TokenAccess(settings.token);
  const root = settings.path;
  const lastSegment = root.slice(root.lastIndexOf('/') + 1);

  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path !== root && !path.startsWith(`${root}/`)) return false;
    const route = path.slice(root.length);
    const nonce = randomBytes(16).toString('base64');
    const page = (status: number, html: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...pageHeaders(nonce), ...headers }).end(html);
      return true;
    };
    const redirect = (location: string, headers: Record<string, string> = {}) => {
      res.writeHead(303, { location, 'cache-control': 'no-store', ...headers }).end();
      return true;
    };
    // links in the pages are relative, so the dashboard works behind any path prefix
    if (route === '') return redirect(`${lastSegment}/`);

    if (route === '/login' && req.method === 'POST') {
      const token = new URLSearchParams(await readBody(req, MAX_FORM_BYTES)).get('token') ?? '';
      if (!access.isToken(token)) return page(401, renderLogin({ nonce, failed: true }));
      return redirect('./', { 'set-cookie': access.sessionCookie(isHttps(req)) });
    }
    if (route === '/logout' && req.method === 'POST') return redirect('./', { 'set-cookie': TokenAccess.clearedCookie() });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }

    if (!access.allows(req)) {
      if (access.triedBearer(req)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }).end('That token is not right.\n');
        return true;
      }
      if (route === '/' || route === '/login') return page(401, renderLogin({ nonce, failed: false }));
      return redirect(`${'../'.repeat(route.split('/').length - 2)}./`);
    }
    if (route === '/' || route === '/login') return route === '/' ? page(200, renderDashboard(profile.view(), { nonce })) : redirect('./');
    if (route === '/review') return page(200, renderReadyPage(profile.ready(), { nonce, now: Date.now() }));
    if (route === '/timeline') return page(200, renderTimelinePage(profile.lives(), { nonce }));

    const run = /^\/runs\/([^/]+)\/([^/]+)\/(\d+)$/.exec(route);
    const record = run ? profile.run(`${decodeURIComponent(run[1]!)}/${decodeURIComponent(run[2]!)}`, Number(run[3])) : undefined;
    if (record) return page(200, renderRunPage(record, { nonce, now: Date.now() }));
    return page(404, renderNotFound(nonce));
  };
}

function pageHeaders(nonce: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': [
      "default-src 'none'", `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`, "connect-src 'self'", "img-src 'self' data:",
      "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

function renderNotFound(nonce: string): string {
  return renderPage({
    nonce,
    title: 'Not found · agent-mapreduce',
    body: html`<main><h1>Not found</h1><p>This process does not remember that run (records are kept in memory, in bounded number).</p>
<p><a href="../../../">All issues</a></p></main>`,
  });
}

function isHttps(req: IncomingMessage): boolean {
  return req.headers['x-forwarded-proto'] === 'https' || (req.socket as { encrypted?: boolean }).encrypted === true;
}

/** The request body as text, refusing (by cutting off) anything longer than `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
