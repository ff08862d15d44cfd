import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Broker restarts run alone, after everything else (vitest.restarts.config.ts).
    exclude: ['test/restarts/**', '**/node_modules/**'],
    // Hang detectors, not bounds: sized for two cores shared with other suites and benchmarks.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The machines have two cores; suites that spawn processes compete for them.
    maxWorkers: 2,
    allowOnly: false,
  },
});
