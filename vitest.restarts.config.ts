import { defineConfig } from 'vitest/config';
import { packagesFromSource } from './vitest.config.js';

/** The tests that stop and start the brokers: run alone, one file at a time, after the main suite. */
export default defineConfig({
  resolve: packagesFromSource.resolve,
  ssr: packagesFromSource.ssr,
  test: {
    env: packagesFromSource.env,
    include: ['test/restarts/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    allowOnly: false,
    // Outside CI (and unless asked) the restart tests skip themselves: that is not a failure.
    passWithNoTests: true,
  },
});
