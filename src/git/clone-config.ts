import fs from 'node:fs/promises';
import path from 'node:path';
import { runToEnd } from '../process/launcher.js';

/**
 * The keys the app itself ever writes into a cached clone's config. Anything else (`url.*`,
 * `include*`, `filter.*`, `credential.*`, `http.*`, `protocol.*`, `core.fsmonitor`, `core.hooksPath`,
 * `extensions.worktreeConfig`…) can make the app's own git calls run code or send the token
 * elsewhere, so a clone holding one is not used: fetches rebuild it, every other call refuses.
 */
const ALLOWED = new Set([
  'core.repositoryformatversion', 'core.filemode', 'core.bare', 'core.logallrefupdates', 'core.ignorecase',
  'core.precomposeunicode', 'core.symlinks', 'remote.origin.url', 'remote.origin.fetch', 'extensions.objectformat',
]);

/** Verified configs by clone, with their text then: an unchanged config is not listed by git again. */
const verified = new Map<string, string>();

/**
 * The clone's config file as it is now: its text, which is small (undefined: there is none). The
 * text, not the file's inode and times: git writes the whole file anew for every branch it deletes,
 * even one that had no section in it, so those change after every run.
 */
export async function configText(clone: string): Promise<string | undefined> {
  return fs.readFile(path.join(clone, 'config'), 'utf8').catch(() => undefined);
}

/** The keys of `<clone>/config` outside the allow list (empty: the config is the app's own). */
export async function forbiddenConfigKeys(clone: string): Promise<string[]> {
  return forbiddenKeysIn(clone, await configText(clone));
}

/** The keys of the clone's config `text`, as read by the caller, outside the allow list (no config: none). */
export async function forbiddenKeysIn(clone: string, text: string | undefined): Promise<string[]> {
  if (text === undefined || verified.get(clone) === text) return [];
  const keys = await listKeys(text);
  const forbidden = [...new Set(keys.filter((key) => !ALLOWED.has(key.toLowerCase())))];
  if (forbidden.length === 0) verified.set(clone, text);
  else verified.delete(clone);
  return forbidden;
}

/** Throws, naming the keys, when the clone's config holds a key the app never writes. */
export async function assertOwnConfig(clone: string): Promise<void> {
  const forbidden = await forbiddenConfigKeys(clone);
  if (forbidden.length > 0) {
    throw new Error(`refusing to use the cached clone ${clone}: its config holds keys the app never writes (${forbidden.join(', ')}); the next sync rebuilds it`);
  }
}

/**
 * git lists the keys of the very text that was read (on its stdin, `--file -`), so what is verified
 * is what was listed; reading config this way runs nothing and follows no include (`--no-includes`).
 */
async function listKeys(text: string): Promise<string[]> {
  const { code, stdout } = await runToEnd('git', ['config', '--file', '-', '--no-includes', '--list', '--name-only', '-z'], {
    cwd: process.cwd(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' },
    input: text, maxBuffer: 16 * 1024 * 1024,
  });
  // a malformed config is not the app's own either
  return code === 0 ? stdout.split('\0').filter((key) => key !== '') : ['<malformed config>'];
}
