import { defineConfig } from 'vitest/config';
import { packagesFromSource } from './vitest.config.js';

/**
 * `npm run test:durability`: servers of the run's own killed with SIGKILL under load, and consumers
 * stopped past their lease. One file at a time (each starts and kills its servers), then the table.
 */
export default defineConfig({
  resolve: packagesFromSource.resolve,
  ssr: packagesFromSource.ssr,
  test: {
    env: packagesFromSource.env,
    include: ['test/durability/**/*.test.ts'],
    globalSetup: ['test/durability/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    allowOnly: false,
  },
});
