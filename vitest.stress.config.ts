import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** The contract suites of every transport, for `STRESS=<n> npm run test:stress` (test/stress/stress.ts). */
export default defineConfig({
  resolve: base.resolve,
  ssr: base.ssr,
  test: {
    ...base.test,
    include: ['packages/*/test/**/*contract*.test.ts'],
    exclude: ['**/node_modules/**'],
  },
});
