import { afterEach, beforeEach } from '@jest/globals';
import nock from 'nock';

/**
 * Every test runs with the network shut, local servers (the Probot server under test, the fake
 * model API) excepted, and fails if it left an expected GitHub call unmade or made one nobody mocked.
 */
const isLocal = (host: string) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host);
let unmatched: string[] = [];

nock.disableNetConnect();
nock.enableNetConnect(isLocal);
nock.emitter.on('no match', (req: { method?: string; path?: string; host?: string; hostname?: string; options?: { host?: string; path?: string } }) => {
  const host = req.host ?? req.hostname ?? req.options?.host ?? '';
  if (isLocal(host)) return;
  unmatched.push(`${req.method ?? 'GET'} ${host}${req.path ?? req.options?.path ?? ''}`);
});

beforeEach(() => {
  unmatched = [];
});

afterEach(() => {
  const pending = nock.pendingMocks();
  const made = unmatched;
  nock.cleanAll();
  unmatched = [];
  if (pending.length > 0) throw new Error(`GitHub calls the test expected but the app never made:\n${pending.join('\n')}`);
  if (made.length > 0) throw new Error(`GitHub calls the app made that no test mocked:\n${made.join('\n')}`);
});
