/**
 * Transport benchmark: the `sqlite` transport end to end (publish → handler → ack) beside the raw
 * floor (better-sqlite3 doing the same work bare) and the `memory` transport, in one process run.
 *
 *   npm run bench                 a table
 *   npm run bench -- --json       the figures as JSON
 *   npm run bench -- --count 5000 --rounds 5 --rate 500 --seconds 5
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEvent, openTransport } from '../src/messaging/index.js';
import { openSqlite } from '../src/messaging/transports/sqlite/database.js';
import { BenchPayment, type Measurement, median, paymentData, percentile, type Result, ratio } from './support.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    count: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
  },
});
const COUNT = Number(flags.count);
const RATE = Number(flags.rate);
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const CONCURRENCY = Number(flags.concurrency);
const dir = mkdtempSync(join(tmpdir(), 'syncopate-bench-'));
let files = 0;
const log = (line: string) => {
  if (!flags.json) process.stderr.write(`${line}\n`);
};

/** Each case: publish `count` messages one per transaction as fast as possible, or at `rate` per second. */
interface Case {
  name: string;
  run(mode: { count: number } | { rate: number; seconds: number }): Promise<Measurement>;
}

const now = () => performance.timeOrigin + performance.now();

/** The floor: one row per message in its own transaction; a consumer that claims and deletes in batches. */
const sqliteFloor: Case = {
  name: 'sqlite-floor',
  async run(mode) {
    const db = openSqlite(join(dir, `floor-${files++}.db`));
    db.exec('CREATE TABLE queue (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO queue (body) VALUES (?)');
    const take = db.prepare(
      'DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT 100) RETURNING body',
    );
    const latencies: number[] = [];
    let received = 0;
    let scheduled = false;
    let finish: () => void = () => {};
    const drain = () => {
      scheduled = false;
      for (;;) {
        const rows = take.all() as { body: string }[];
        if (rows.length === 0) break;
        const at = now();
        for (const row of rows) latencies.push(at - (JSON.parse(row.body) as { data: { sentAt: number } }).data.sentAt);
        received += rows.length;
      }
      if (received >= target) finish();
    };
    const publish = (n: number) => {
      insert.run(JSON.stringify(createEvent(BenchPayment, paymentData(n, now()), { source: 'urn:bench' })));
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    };
    const target = 'count' in mode ? mode.count : Math.round(mode.rate * mode.seconds);
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const started = now();
    await drive(mode, async (n) => publish(n));
    await done;
    const elapsed = now() - started;
    db.close();
    return { received, elapsedMs: elapsed, latencies };
  },
};

function transportCase(name: string, url: () => string): Case {
  return {
    name,
    async run(mode) {
      const transport = await openTransport(url());
      const latencies: number[] = [];
      const target = 'count' in mode ? mode.count : Math.round(mode.rate * mode.seconds);
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      await transport.subscribe({
        group: 'bench',
        events: [BenchPayment],
        concurrency: CONCURRENCY,
        handler: ({ event }) => {
          latencies.push(now() - event.data.sentAt);
          if (latencies.length >= target) finish();
        },
      });
      const started = now();
      await drive(mode, (n) =>
        transport.publish(createEvent(BenchPayment, paymentData(n, now()), { source: 'urn:bench' })),
      );
      await done;
      const elapsed = now() - started;
      await transport.close();
      return { received: latencies.length, elapsedMs: elapsed, latencies };
    },
  };
}

/** Publishes either `count` messages back to back, or at a fixed rate for `seconds`. */
async function drive(
  mode: { count: number } | { rate: number; seconds: number },
  publish: (n: number) => Promise<void>,
) {
  if ('count' in mode) {
    for (let n = 0; n < mode.count; n++) await publish(n);
    return;
  }
  const total = Math.round(mode.rate * mode.seconds);
  const startedAt = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - startedAt) / 1000) * mode.rate) + 1);
    while (sent < due) await publish(sent++);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const cases: Case[] = [
  sqliteFloor,
  transportCase('sqlite', () => `sqlite:${join(dir, `transport-${files++}.db`)}`),
  transportCase('memory', () => 'memory:'),
];

async function main() {
  log(`transport benchmark: ${ROUNDS} rounds of ${COUNT} messages, then latency at ${RATE} msg/s for ${SECONDS} s`);
  for (const bench of cases) await bench.run({ count: Math.min(1_000, COUNT) }); // warm-up: JIT, page cache
  // Rounds alternate between the cases, so a noisy disk moment hits them alike; medians are reported.
  const throughput = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const bench of cases) {
      const m = await bench.run({ count: COUNT });
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
  const floorRounds = throughput.get('sqlite-floor') ?? [];
  const sqlite = results.find((r) => r.name === 'sqlite');
  if (sqlite) {
    sqlite.ratioToFloor = ratio(median((throughput.get('sqlite') ?? []).map((v, i) => v / (floorRounds[i] ?? v))), 1);
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
