import { defineConfig } from 'vitest/config';

// graphql must be one module instance: test files importing 'graphql' would otherwise get its ESM entry while
// type-graphql gets another copy, and graphql refuses a schema "from another module or realm".
const resolve = { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] };

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // Real servers: starting a broker or a replay takes seconds, not milliseconds.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
