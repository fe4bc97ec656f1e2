import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 has no exports map: without this, Vite loads index.mjs for our imports while
    // type-graphql (externalised) loads index.js, and the two GraphQLScalarType classes differ.
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global-db.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores on the reference machines: more workers only add contention.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
