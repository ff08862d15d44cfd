import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Broker restarts run alone, after everything else (vitest.restarts.config.ts); the crash
    // durability run has a command of its own (vitest.durability.config.ts).
    exclude: ['test/restarts/**', 'test/durability/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The machines have two cores; suites that spawn processes compete for them.
    maxWorkers: 2,
    allowOnly: false,
  },
});
