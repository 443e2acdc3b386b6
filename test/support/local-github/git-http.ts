/**
 * Git's smart HTTP protocol for the local GitHub, served by `git http-backend` as a CGI program over
 * the bare repositories on disk, so that the app clones, fetches and pushes as it would on GitHub.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { launch } from '../../../src/process/launcher.js';

export interface GitHttpRequest {
  /** Folder holding `<owner>/<repo>.git` */
  projectRoot: string;
  /** e.g. `/octo-org/widgets.git/info/refs` */
  pathInfo: string;
  query: string;
  /** Who the token belongs to; pushes are refused without one. */
  remoteUser: string | undefined;
  env: Record<string, string>;
  /** Runs once git is done, before the client hears the end: a push is then seen everywhere (refs, PRs, CI) by the time it returns, as on GitHub. */
  beforeEnd?: () => Promise<void>;
}

export function serveGit(req: IncomingMessage, res: ServerResponse, git: GitHttpRequest): Promise<void> {
  return new Promise((resolve) => {
    // started as the app starts its programs: from a small process, not from this one, whose every fork
    // would hold up the whole local GitHub (it holds the state of every repository, issue and delivery)
    const child = launch('git', ['http-backend'], {
      cwd: git.projectRoot,
      stdin: true,
      env: {
        ...git.env,
        GIT_PROJECT_ROOT: git.projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: git.pathInfo,
        QUERY_STRING: git.query,
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        ...(git.remoteUser ? { REMOTE_USER: git.remoteUser, REMOTE_ADDR: '127.0.0.1' } : {}),
      },
    });
    child.stdin!.on('error', () => undefined); // http-backend may answer without reading the whole request
    req.pipe(child.stdin!);
    let head = Buffer.alloc(0);
    let headDone = false;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (headDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    let finished = false;
    const finish = async (code: number | null) => {
      if (finished) return;
      finished = true;
      if (!headDone && !res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.write(`git http-backend failed (${code}): ${stderr}`);
      }
      await git.beforeEnd?.();
      res.end();
      resolve();
    };
    child.on('error', (error: Error) => {
      stderr += error.message;
      void finish(null);
    });
    child.on('close', (code: number | null) => void finish(code));
  });
}
