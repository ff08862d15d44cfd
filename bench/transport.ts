/**
 * Transport benchmark: each transport end to end (publish → handler → ack) beside its raw client
 * doing the same work bare (the floor), in one process run. Every file in bench/transport-cases/
 * contributes cases; a case named `x-floor` is the floor of the case named `x`.
 *
 *   npm run bench                 a table
 *   npm run bench -- --json       the figures as JSON
 *   npm run bench -- --only sqlite,postgres --count 5000 --rounds 5 --rate 500 --seconds 5
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Measurement, median, medianRatio, percentile, type Result } from './support.js';
import type { Case, CaseFactory } from './transport-cases/support.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    count: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    only: { type: 'string' },
  },
});
const COUNT = Number(flags.count);
const RATE = Number(flags.rate);
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const dir = mkdtempSync(join(tmpdir(), 'syncopate-bench-'));
const log = (line: string) => {
  if (!flags.json) process.stderr.write(`${line}\n`);
};

async function loadCases(): Promise<Case[]> {
  const only = flags.only?.split(',').map((s) => s.trim());
  const folder = new URL('./transport-cases/', import.meta.url);
  const files = readdirSync(folder).filter((f) => f.endsWith('.ts') && f !== 'support.ts');
  const cases: Case[] = [];
  for (const file of files.sort()) {
    if (only && !only.includes(file.replace(/\.ts$/, ''))) continue;
    const { cases: factory } = (await import(new URL(file, folder).href)) as { cases: CaseFactory };
    cases.push(...(await factory({ concurrency: Number(flags.concurrency), dir })));
  }
  return cases;
}

async function main() {
  const cases = await loadCases();
  log(`transport benchmark: ${ROUNDS} rounds of ${COUNT} messages, then latency at ${RATE} msg/s for ${SECONDS} s`);
  for (const bench of cases) await bench.run({ count: Math.min(1_000, COUNT) }); // warm-up: JIT, caches, connections
  // Rounds alternate between the cases, so a noisy disk moment hits them alike; medians are reported.
  const throughput = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const bench of cases) {
      const m: Measurement = await bench.run({ count: COUNT });
      throughput.get(bench.name)?.push((m.received / m.elapsedMs) * 1000);
    }
    log(`  round ${r + 1}/${ROUNDS} done`);
  }
  const results: Result[] = [];
  for (const bench of cases) {
    const paced = await bench.run({ rate: RATE, seconds: SECONDS });
    const sorted = paced.latencies.sort((a, b) => a - b);
    results.push({
      name: bench.name,
      msgPerSec: Math.round(median(throughput.get(bench.name) ?? [])),
      p50Ms: round(percentile(sorted, 0.5)),
      p99Ms: round(percentile(sorted, 0.99)),
    });
  }
  for (const result of results) {
    const floorRounds = throughput.get(`${result.name}-floor`);
    if (!floorRounds) continue;
    result.ratioToFloor = medianRatio(throughput.get(result.name) ?? [], floorRounds);
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(`\n${new Date().toISOString().slice(0, 10)} · ${cpus().length} × ${cpu} · Node ${process.version}`);
    console.table(results);
  }
  rmSync(dir, { recursive: true, force: true });
}

const round = (value: number) => Math.round(value * 1000) / 1000;

await main();
process.exit(0);
