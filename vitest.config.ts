import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The machines have two cores; suites that spawn processes compete for them.
    maxWorkers: 2,
    allowOnly: false,
  },
});
