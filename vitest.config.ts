import { defineConfig } from 'vitest/config';

/** The export condition under which the workspace's packages resolve to their TypeScript sources. */
const SOURCE = '@syncopate/source';

/** Tests run the packages' sources, in their own process and in the processes they start: no build first. */
export const packagesFromSource = {
  resolve: { conditions: [SOURCE] },
  ssr: { resolve: { conditions: [SOURCE] } },
  env: { NODE_OPTIONS: `--conditions=${SOURCE}` },
};

export default defineConfig({
  resolve: packagesFromSource.resolve,
  ssr: packagesFromSource.ssr,
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
    env: packagesFromSource.env,
  },
});
