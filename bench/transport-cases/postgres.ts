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
