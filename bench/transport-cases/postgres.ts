import pg from 'pg';
import { serverAnswers } from '../../test/support/availability.js';
import { benchEventJson, type Case, type CaseFactory, drive, now, targetOf, transportCase } from './support.js';

const BASE_URL = process.env.POSTGRES_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** How publishes wake consumers, for both cases alike: `after` (the transport's default), `commit` or `off`. */
const NOTIFY = process.env.POSTGRES_BENCH_NOTIFY ?? 'after';
const POLL_MS = 1_000;

let schemas = 0;
const freshSchema = (kind: string) => `bench_${kind}_${process.pid}_${schemas++}`;

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
}

/**
 * The floor: a bare SKIP LOCKED queue with `pg`. One INSERT per message, in its own statement; a
 * consumer that deletes up to 100 rows per round trip, woken like the transport's consumers: at
 * once by the publishing process, by LISTEN/NOTIFY (sent the same way) from others, else by a poll.
 */
function postgresFloor(): Case {
  return {
    name: 'postgres-floor',
    async run(mode) {
      const schema = freshSchema('floor');
      const channel = `floor:${schema}`;
      const pool = new pg.Pool({ connectionString: BASE_URL, max: 10 });
      await pool.query(
        `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".queue (id bigserial PRIMARY KEY, body text NOT NULL)`,
      );
      const insert =
        NOTIFY === 'commit'
          ? `WITH i AS (INSERT INTO "${schema}".queue (body) VALUES ($1) RETURNING 1) SELECT pg_notify('${channel}', 'self') FROM i`
          : `INSERT INTO "${schema}".queue (body) VALUES ($1)`;
      const take = `DELETE FROM "${schema}".queue WHERE id IN (
        SELECT id FROM "${schema}".queue ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 100) RETURNING body`;
      const listener = new pg.Client({ connectionString: BASE_URL });
      await listener.connect();
      // The transport sends its NOTIFY on a connection that does not wait for the WAL flush; so does the floor.
      const notifier = new pg.Client({ connectionString: BASE_URL, options: '-c synchronous_commit=off' });
      await notifier.connect();
      await listener.query(`LISTEN "${channel}"`);

      const latencies: number[] = [];
      const target = targetOf(mode);
      let generation = 0;
      let wake: () => void = () => {};
      const bump = () => {
        generation += 1;
        wake();
      };
      listener.on('notification', (message) => {
        if (message.payload !== 'self') bump();
      });
      let scheduled = false;
      const announce = () => {
        if (scheduled) return;
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          bump();
        });
      };
      let notifying = false;
      let again = false;
      const notifyOthers = () => {
        if (notifying) {
          again = true;
          return;
        }
        notifying = true;
        void notifier.query('SELECT pg_notify($1, $2)', [channel, 'self']).finally(() => {
          notifying = false;
          if (again) {
            again = false;
            notifyOthers();
          }
        });
      };

      const consume = async () => {
        while (latencies.length < target) {
          const seen = generation;
          const { rows } = await pool.query<{ body: string }>({ name: 'floor-take', text: take });
          const at = now();
          for (const row of rows)
            latencies.push(at - (JSON.parse(row.body) as { data: { sentAt: number } }).data.sentAt);
          if (rows.length > 0 || generation !== seen) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, POLL_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = () => {};
        }
      };
      const started = now();
      const consumer = consume();
      await drive(mode, async (n) => {
        await pool.query({ name: 'floor-insert', text: insert, values: [benchEventJson(n)] });
        announce();
        if (NOTIFY === 'after') notifyOthers();
      });
      await consumer;
      const elapsed = now() - started;
      while (notifying) await new Promise((resolve) => setTimeout(resolve, 1));
      await Promise.all([listener.end(), notifier.end(), pool.end()]);
      await dropSchema(schema);
      return { received: latencies.length, elapsedMs: elapsed, latencies };
    },
  };
}

function postgresTransport(options: Parameters<CaseFactory>[0]): Case {
  let schema = '';
  const inner = transportCase(
    'postgres',
    () => {
      schema = freshSchema('transport');
      return `${BASE_URL}?schema=${schema}&notify=${NOTIFY}&poll=${POLL_MS}`;
    },
    options,
  );
  return {
    name: inner.name,
    async run(mode) {
      const measurement = await inner.run(mode);
      await dropSchema(schema);
      return measurement;
    },
  };
}

export const cases: CaseFactory = async (options) =>
  (await serverAnswers(Number(new URL(BASE_URL).port || 5432))) ? [postgresFloor(), postgresTransport(options)] : [];

/**
 * `npx tsx bench/transport-cases/postgres.ts`: how each way of waking consumers costs publishers.
 * P publishers publish one event at a time, concurrently; a consumer reachable only by NOTIFY or
 * its poll (another connection string, so no in-process shortcut) handles them. Prints publish
 * throughput and publish → handler latency per mode and publisher count.
 */
async function compareNotifyModes(): Promise<void> {
  const { createEvent, openTransport } = await import('@syncopate/messaging');
  const { BenchPayment, paymentData, percentile } = await import('../support.js');
  const modes = [
    { notify: 'commit', poll: 1_000 },
    { notify: 'after', poll: 1_000 },
    { notify: 'off', poll: 10 },
  ];
  const perPublisher = Number(process.env.POSTGRES_BENCH_COUNT ?? 1_500);
  const rows: Record<string, string | number>[] = [];
  for (const publishers of [1, 4, 16]) {
    for (const { notify, poll } of modes) {
      const schema = freshSchema('notify');
      const url = `${BASE_URL}?schema=${schema}&notify=${notify}&poll=${poll}&pool=16`;
      const consumer = await openTransport(`${url}&application_name=consumer`);
      const publisher = await openTransport(url);
      const latencies: number[] = [];
      const total = publishers * perPublisher;
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      await consumer.subscribe({
        group: 'bench',
        events: [BenchPayment],
        concurrency: 64,
        handler: ({ event }) => {
          latencies.push(now() - event.data.sentAt);
          if (latencies.length >= total) finish();
        },
      });
      const started = now();
      await Promise.all(
        Array.from({ length: publishers }, async (_, p) => {
          for (let n = 0; n < perPublisher; n++) {
            await publisher.publish(
              createEvent(BenchPayment, paymentData(p * perPublisher + n, now()), { source: 'urn:bench' }),
            );
          }
        }),
      );
      const publishMs = now() - started;
      await done;
      latencies.sort((a, b) => a - b);
      rows.push({
        publishers,
        notify: notify === 'off' ? `off, poll ${poll} ms` : notify,
        'publish msg/s': Math.round((total / publishMs) * 1000),
        'p50 ms': Math.round(percentile(latencies, 0.5) * 100) / 100,
        'p99 ms': Math.round(percentile(latencies, 0.99) * 100) / 100,
      });
      await Promise.all([consumer.close(), publisher.close()]);
      await dropSchema(schema);
    }
  }
  console.table(rows);
}

if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  await compareNotifyModes();
}
