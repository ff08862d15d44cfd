import { defineConfig } from 'vitest/config';

/** The export condition under which the workspace's packages resolve to their TypeScript sources. */
const SOURCE = '@syncopate/source';

export default defineConfig({
  // Tests run the packages' sources: no build before `npm test`.
  resolve: { conditions: [SOURCE] },
  ssr: { resolve: { conditions: [SOURCE] } },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Broker restarts run alone, after everything else (vitest.restarts.config.ts).
    exclude: ['test/restarts/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The machines have two cores; suites that spawn processes compete for them.
    maxWorkers: 2,
    allowOnly: false,
    // Child processes the tests start (`--import tsx`) resolve the packages to their sources too.
    env: { NODE_OPTIONS: `--conditions=${SOURCE}` },
  },
});
