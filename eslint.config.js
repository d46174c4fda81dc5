// One lint configuration for the repo: typescript-eslint's strict type-aware rules on every package.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', '**/.svelte-kit/**', '**/node_modules/**', 'apps/web/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // zod's browser config (jitless, no eval probe under a CSP) must apply before any contract schema is built.
    files: ['libs/contracts/src/**/*.ts'],
    ignores: ['libs/contracts/src/zod.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'zod', message: "import { z } from './zod.js' (configured for browsers before any schema is built)" }] }],
    },
  },
  {
    // Webhook delivery is a module of its own (docs/design.md, "Integrations"): the rest of query-api goes through its index.
    files: ['apps/query-api/src/**/*.ts'],
    ignores: ['apps/query-api/src/webhooks/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)webhooks/(?!index\\.js$)[^/]+$', message: "import the webhook module through './webhooks/index.js'" }] }],
    },
  },
);
