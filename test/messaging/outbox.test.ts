import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Envelope,
  OutboxRelay,
  OutboxTable,
  openTransport,
  type SqlDatabase,
  type Transport,
} from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSqlDatabase } from '../../src/platform/open-sql-database.js';
import { requireServer } from '../support/availability.js';
import { startChild } from '../support/processes.js';
import { delay, waitFor } from '../support/wait.js';
import '../../src/app/transports.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const pgAvailable = await requireServer('PostgreSQL', 5432);
const dir = mkdtempSync(join(tmpdir(), 'syncopate-outbox-'));
let n = 0;
const freshFile = (name: string) => join(dir, `${name}-${n++}.db`);
const schemas: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

/** A service database on each engine: its URL (for child processes), its schema, and an open handle. */
const engines: [string, boolean, () => { url: string; schema: string }][] = [
  ['sqlite', true, () => ({ url: `sqlite:${freshFile('service')}`, schema: 'unused' })],
  [
    'postgres',
    pgAvailable,
    () => {
      const schema = `t_outbox_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      return { url: PG_URL, schema };
    },
  ],
];

async function open(target: { url: string; schema: string }): Promise<SqlDatabase> {
  const db = await openSqlDatabase(target.url, { schema: target.schema });
  cleanups.push(() => db.close());
  return db;
}

async function consumer(url: string) {
  const transport = await openTransport(url);
  cleanups.push(() => transport.close());
  const received: Envelope[] = [];
  await transport.subscribe({ group: 'g', events: [TestHappened], handler: ({ event }) => void received.push(event) });
  return { transport, received };
}

function relay(outbox: OutboxTable, transport: Transport, onError?: (error: unknown) => void) {
  const started = new OutboxRelay({ outbox, transport, pollMs: 20, ...(onError ? { onError } : {}) }).start();
  cleanups.push(() => started.stop());
  return started;
}

describe.each(engines)('outbox table and relay, service database on %s', (_engine, available, target) => {
  it.runIf(available)('publishes the events of committed transactions, in commit order', async () => {
    const { transport, received } = await consumer(`sqlite:${freshFile('queue')}`);
    const outbox = await OutboxTable.open(await open(target()));
    relay(outbox, transport);
    const events = Array.from({ length: 30 }, (_, i) => happened(i, { key: `k${i % 2}` }));
    for (const event of events) await outbox.db.transaction((tx) => outbox.append(tx, [event]));
    await waitFor('30 events', () => received.length === 30);
    expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it.runIf(available)('publishes nothing from a transaction that rolled back', async () => {
    const { transport, received } = await consumer(`sqlite:${freshFile('queue')}`);
    const db = await open(target());
    const outbox = await OutboxTable.open(db);
    const r = relay(outbox, transport);
    await expect(
      db.transaction(async (tx) => {
        await outbox.append(tx, [happened(1)]);
        throw new Error('payment row failed a constraint');
      }),
    ).rejects.toThrow('constraint');
    await db.transaction((tx) => outbox.append(tx, [happened(2)]));
    await waitFor('the committed event', () => received.length === 1);
    await delay(150);
    expect(received.map((e) => e.data)).toEqual([{ n: 2 }]);
    await waitFor('the outbox to empty', async () => (await r.backlog()).count === 0);
  });

  it.runIf(available)('publishes what a process committed even though it died before relaying', async () => {
    const service = target();
    const writer = startChild<{ kind: string; ids: string[] }>(new URL('./outbox-child.ts', import.meta.url).href, [
      'write',
      service.url,
      '25',
      service.schema,
    ]);
    const { ids } = await writer.next((r) => r.kind === 'committed');
    await writer.exited;
    expect(writer.process.signalCode).toBe('SIGKILL');

    const { transport, received } = await consumer(`sqlite:${freshFile('queue')}`);
    relay(await OutboxTable.open(await open(service)), transport);
    await waitFor('the 25 committed events', () => received.length === 25);
    expect(received.map((e) => e.id)).toEqual(ids);
  });

  it.runIf(available)(
    'lets several relay processes run: one leads, each event is published once, in order',
    async () => {
      const queueUrl = `sqlite:${freshFile('queue')}`;
      const { received } = await consumer(queueUrl);
      const service = target();
      const outbox = await OutboxTable.open(await open(service));
      const relays = [0, 1, 2].map(() =>
        startChild<{ kind: string }>(new URL('./outbox-child.ts', import.meta.url).href, [
          'relay',
          service.url,
          queueUrl,
          service.schema,
        ]),
      );
      cleanups.push(() => Promise.all(relays.map((r) => r.kill())).then(() => {}));
      await Promise.all(relays.map((r) => r.next((report) => report.kind === 'ready')));
      const events = Array.from({ length: 300 }, (_, i) => happened(i));
      for (let i = 0; i < events.length; i += 3) {
        await outbox.db.transaction((tx) => outbox.append(tx, events.slice(i, i + 3)));
      }
      await waitFor('300 events', () => received.length >= 300, 30_000);
      await delay(300);
      expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));
    },
  );

  it.runIf(available)('keeps rows while the transport refuses them, and publishes them once it accepts', async () => {
    const queueUrl = `sqlite:${freshFile('queue')}`;
    const producer = await openTransport(queueUrl);
    cleanups.push(() => producer.close());
    const db = await open(target());
    const outbox = await OutboxTable.open(db);
    const errors: unknown[] = [];
    const r = relay(outbox, producer, (e) => errors.push(e));
    // No group is declared yet: the transport refuses the event as unroutable.
    await db.transaction((tx) => outbox.append(tx, [happened(1)]));
    await waitFor('a refusal', () => errors.length > 0);
    expect((await r.backlog()).count).toBe(1);
    const { received } = await consumer(queueUrl);
    await waitFor('the event, once routable', () => received.length === 1, 10_000);
    // The relay deletes the row once the transport confirmed it, which may be just after delivery.
    await waitFor('the outbox to empty', async () => (await r.backlog()).count === 0);
  });
});
