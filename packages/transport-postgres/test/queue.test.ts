import { InvalidTransportUrlError, openTransport, type Transport, type TransportDriver } from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { delay, waitFor } from '../../../test/support/wait.js';
import { migratePostgresQueue, openPostgresDriver } from '../src/index.js';
import '../src/register.js';
import { dropSchemas, POSTGRES_BASE_URL, POSTGRES_PORT, schemaNamer, urlFor } from './postgres-support.js';

const available = await requireServer('PostgreSQL', POSTGRES_PORT);
const schemas = schemaNamer('queue');
/** Another connection string to the same database: a publisher the consumer's process cannot wake directly. */
const elsewhere = '&application_name=elsewhere';

describe.skipIf(!available)('postgres: queue behaviour specific to PostgreSQL', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  const admin = () => {
    const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    cleanup.push(() => client.end());
    return client.connect().then(() => client);
  };
  const transport = async (url: string): Promise<Transport> => {
    const opened = await openTransport(url);
    cleanup.push(() => opened.close({ deadlineMs: 1_000 }));
    return opened;
  };
  const driver = async (url: string): Promise<TransportDriver> => {
    const opened = await openPostgresDriver(url);
    cleanup.push(() => opened.close());
    return opened;
  };
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });
  afterAll(() => dropSchemas(schemas.created));

  it('rejects bad URL options with a clear error', async () => {
    for (const [params, problem] of [
      ['?schema=Bad-Name', /schema must be/],
      ['?pool=0', /pool must be an integer from 1 to 100/],
      ['?poll=fast', /poll must be an integer/],
      ['?notify=sometimes', /notify must be one of commit, after, off/],
    ] as const) {
      const attempt = openTransport(`${POSTGRES_BASE_URL}${params}`);
      await expect(attempt).rejects.toBeInstanceOf(InvalidTransportUrlError);
      await expect(attempt).rejects.toThrow(problem);
    }
  });

  it('wakes a consumer in another process by NOTIFY, without waiting for its poll', async () => {
    const schema = schemas.next();
    const consumer = await transport(urlFor(schema, '&poll=60000'));
    const received: number[] = [];
    await consumer.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: ({ event }) => void received.push(event.data.n),
    });
    const publisher = await transport(urlFor(schema, elsewhere));
    for (const n of [1, 2, 3]) {
      const sent = Date.now();
      await publisher.publish(happened(n));
      await waitFor(`event ${n}`, () => received.length === n, 2_000);
      expect(Date.now() - sent).toBeLessThan(1_000);
    }
  });

  it('keeps waking consumers after its LISTEN connection is cut: it reconnects on its own', async () => {
    const schema = schemas.next();
    const consumer = await transport(urlFor(schema, '&poll=60000'));
    const received: number[] = [];
    await consumer.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: ({ event }) => void received.push(event.data.n),
    });
    const publisher = await transport(urlFor(schema, elsewhere));
    const db = await admin();
    // Only this test's listener: its LISTEN names this test's schema.
    const listeners = () =>
      db.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'syncopate-listener' AND query = $1`,
        [`LISTEN "syncopate:${schema}"`],
      );
    const [before] = (await listeners()).rows;
    expect(before).toBeDefined();
    await db.query('SELECT pg_terminate_backend($1)', [before?.pid]);
    await waitFor('a new listener', async () => (await listeners()).rows.some((row) => row.pid !== before?.pid), 5_000);
    await publisher.publish(happened(1));
    await waitFor('the event, by NOTIFY to the new listener', () => received.length === 1, 2_000);
  });

  it('never hands out a key’s later event while another consumer holds an earlier one', async () => {
    const schema = schemas.next();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const running = new Map<string, number>();
    const log = new Map<string, number[]>();
    let overlaps = 0;
    let done = 0;
    for (const member of ['one', 'two', 'three']) {
      const consumer = await transport(urlFor(schema, `&application_name=${member}`));
      await consumer.subscribe({
        group: 'g',
        events: [TestHappened],
        concurrency: 8,
        handler: async ({ event }) => {
          const key = event.orderingkey as string;
          if (running.has(key)) overlaps += 1;
          running.set(key, event.data.n);
          await delay(Math.random() * 4);
          log.set(key, [...(log.get(key) ?? []), event.data.n]);
          running.delete(key);
          done += 1;
        },
      });
    }
    const publisher = await transport(urlFor(schema));
    const events = Array.from({ length: 300 }, (_, n) => happened(n, { key: keys[n % keys.length] as string }));
    for (let i = 0; i < events.length; i += 15) await publisher.publish(events.slice(i, i + 15));
    await waitFor('300 handled', () => done === 300, 30_000);
    expect(overlaps).toBe(0);
    for (const [index, key] of keys.entries()) {
      expect(log.get(key)).toEqual(events.filter((_, n) => n % keys.length === index).map((e) => e.data.n));
    }
  });

  it('ignores a settlement whose lease lapsed and was claimed again (fencing)', async () => {
    const schema = schemas.next();
    const d = await driver(urlFor(schema));
    await d.declareGroup('g', [TestHappened.type]);
    await d.publish([happened(1)]);
    const first = await d.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 100 });
    const second = await d.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 10_000 });
    const [stale] = await first.claim(10, AbortSignal.timeout(2_000));
    expect(stale?.attempt).toBe(1);
    await delay(150);
    const [fresh] = await second.claim(10, AbortSignal.timeout(2_000));
    expect(fresh?.attempt).toBe(2);
    await first.ack([stale as NonNullable<typeof stale>]);
    await first.deadLetter(stale as NonNullable<typeof stale>, 'too late');
    await first.release([stale as NonNullable<typeof stale>], { countAttempt: false });
    expect(await d.deadLetters.count('g')).toBe(0);
    const db = await admin();
    const rows = await db.query(`SELECT attempts FROM "${schema}".deliveries WHERE lease IS NOT NULL`);
    expect(rows.rows).toEqual([{ attempts: 2 }]);
    await second.ack([fresh as NonNullable<typeof fresh>]);
    expect((await db.query(`SELECT count(*)::int AS n FROM "${schema}".deliveries`)).rows).toEqual([{ n: 0 }]);
  });

  it('deletes acknowledged rows, and after a VACUUM the next load reuses the space instead of growing the table', async () => {
    const schema = schemas.next();
    const consumer = await transport(urlFor(schema));
    let handled = 0;
    await consumer.subscribe({
      group: 'g',
      events: [TestHappened],
      concurrency: 32,
      handler: () => {
        handled += 1;
      },
    });
    const db = await admin();
    const size = async () => {
      await db.query(`VACUUM "${schema}".deliveries`);
      const { rows } = await db.query<{ bytes: string; live: number }>(
        `SELECT pg_table_size('"${schema}".deliveries') AS bytes, (SELECT count(*)::int FROM "${schema}".deliveries) AS live`,
      );
      return { bytes: Number(rows[0]?.bytes), live: rows[0]?.live };
    };
    const load = async () => {
      const target = handled + 2_000;
      for (let i = 0; i < 2_000; i += 100) {
        await consumer.publish(Array.from({ length: 100 }, (_, n) => happened(i + n)));
      }
      await waitFor('the load handled', () => handled >= target, 30_000);
      await delay(100); // the last acks
    };
    await load();
    const afterFirst = await size();
    await load();
    await load();
    const afterThird = await size();
    expect(afterFirst.live).toBe(0);
    expect(afterThird.live).toBe(0);
    expect(afterThird.bytes).toBeLessThanOrEqual(afterFirst.bytes * 1.2);
  });

  it('replaces the same-key index of an older schema with one led by the key', async () => {
    const schema = schemas.next();
    await driver(urlFor(schema));
    const db = await admin();
    await db.query(`DROP INDEX "${schema}".deliveries_by_key;
      CREATE INDEX deliveries_order ON "${schema}".deliveries (grp, okey, id) WHERE okey IS NOT NULL`);
    await migratePostgresQueue(db, schema);
    const { rows } = await db.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'deliveries' ORDER BY indexname",
      [schema],
    );
    expect(rows.map((row) => row.indexname)).toEqual(['deliveries_by_key', 'deliveries_pkey']);
    expect(rows[0]?.indexdef).toMatch(/\(okey, grp, id\) WHERE \(okey IS NOT NULL\)/);
  });
});
