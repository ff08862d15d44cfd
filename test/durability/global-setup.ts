/**
 * The durability run's frame: one seed for the run's random kill moments (SYNCOPATE_SEED repeats
 * them), a directory the tests write their figures to, and at the end the table, printed and
 * saved to test-artifacts/durability/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { testSeed } from '../support/seed.js';
import { formatTable, readEntries } from './results.js';

declare module 'vitest' {
  export interface ProvidedContext {
    durabilityResults: string;
    durabilitySeed: number;
  }
}

export default function setup(project: TestProject) {
  const results = mkdtempSync(join(tmpdir(), 'syncopate-durability-results-'));
  const seed = testSeed();
  project.provide('durabilityResults', results);
  project.provide('durabilitySeed', seed);
  return () => {
    const entries = readEntries(results);
    rmSync(results, { recursive: true, force: true });
    if (entries.length === 0) return;
    const table = formatTable(entries);
    const artifacts = join('test-artifacts', 'durability');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'durability.md'), `${table}\n`);
    writeFileSync(join(artifacts, 'durability.json'), JSON.stringify({ seed, entries }, null, 2));
    console.log(
      `\nDurability: SIGKILL under load (seed ${seed}: SYNCOPATE_SEED=${seed} npm run test:durability repeats the kill moments)\n\n${table}\n`,
    );
  };
}
