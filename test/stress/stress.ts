/**
 * `STRESS=<n> npm run test:stress [-- <vitest filters>]`: the contract suites n times, each run
 * with a random seed. Vitest shuffles the order of files and tests by it, and tests read it as
 * SYNCOPATE_SEED for their own random choices. Stops at the first failing run and prints its
 * seed and the command that repeats it; SYNCOPATE_SEED set beforehand makes every run use it.
 */
import { spawnSync } from 'node:child_process';
import { testSeed } from '../support/seed.js';

const runs = Number(process.env.STRESS);
const filters = process.argv.slice(2);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('Set STRESS to the number of runs: STRESS=10 npm run test:stress (-- sqlite for one transport)');
  process.exit(2);
}

for (let run = 1; run <= runs; run++) {
  const seed = testSeed();
  const started = performance.now();
  console.log(`\nstress run ${run} of ${runs}, seed ${seed}`);
  const vitest = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      '--config',
      'vitest.stress.config.ts',
      '--sequence.shuffle',
      `--sequence.seed=${seed}`,
      ...filters,
    ],
    { stdio: 'inherit', env: { ...process.env, SYNCOPATE_SEED: String(seed) } },
  );
  const seconds = Math.round((performance.now() - started) / 1_000);
  if (vitest.status !== 0) {
    const again = [
      `SYNCOPATE_SEED=${seed}`,
      'STRESS=1 npm run test:stress',
      ...(filters.length ? ['--', ...filters] : []),
    ];
    console.error(
      `\nstress run ${run} of ${runs} failed after ${seconds} s, seed ${seed}. Repeat it with:\n  ${again.join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`stress run ${run} of ${runs} passed in ${seconds} s (seed ${seed})`);
}
console.log(`\nall ${runs} stress runs passed`);
