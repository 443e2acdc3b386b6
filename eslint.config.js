import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['lib/', 'node_modules/', 'coverage/', '.bench-build/', '.test-build/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // a fork from the app's own process holds its event loop: programs start from the launcher
    files: ['src/**'],
    ignores: ['src/process/launcher.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'node:child_process', message: 'start programs with src/process/launcher.ts' }] }],
    },
  },
  {
    files: ['bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
