/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  setupFilesAfterEnv: ['<rootDir>/test/support/strict-nock.ts'],
  testTimeout: 60000,
  // two test files at a time, not jest's default of one fewer than the cores (one on these 2-core
  // machines): most files wait on child processes, timers and HTTP, so the whole run takes about
  // 270-310 s instead of 510-570 s, and passed three times in a row that way before this was set
  maxWorkers: 2,
  // a handle a failed test left open (a client of a server it stopped) must not turn a red run into
  // one that never ends; jest still names the leak when it forces the exit
  forceExit: true,
};
