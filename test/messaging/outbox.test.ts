import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Envelope, openTransport, type Transport } from '../../src/messaging/index.js';
import { OutboxRelay } from '../../src/messaging/outbox/outbox-relay.js';
import { SqliteOutboxTable } from '../../src/messaging/outbox/sqlite-outbox.js';
import { openSqlite } from '../../src/messaging/transports/sqlite/database.js';
import { SqliteQueueWriter } from '../../src/messaging/transports/sqlite/queue-writer.js';
import { happened, TestHappened } from '../contract/events.js';
import { startChild } from '../support/processes.js';
import { delay, waitFor } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-outbox-'));
let n = 0;
const freshFile = (name: string) => join(dir, `${name}-${n++}.db`);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function consumer(url: string) {
  const transport = await openTransport(url);
  cleanups.push(() => transport.close());
  const received: Envelope[] = [];
  await transport.subscribe({ group: 'g', events: [TestHappened], handler: ({ event }) => void received.push(event) });
  return { transport, received };
}

function relay(outbox: SqliteOutboxTable, transport: Transport) {
  const started = new OutboxRelay({ outbox, transport, pollMs: 20 }).start();
  cleanups.push(() => started.stop());
  return started;
}

describe('outbox table and relay', () => {
  it('publishes the events of a committed transaction, in commit order per key', async () => {
    const { transport, received } = await consumer(`sqlite:${freshFile('queue')}`);
    const db = openSqlite(freshFile('service'));
    cleanups.push(() => void db.close());
    const outbox = new SqliteOutboxTable(db);
    relay(outbox, transport);
    const events = Array.from({ length: 30 }, (_, i) => happened(i, { key: `k${i % 2}` }));
    for (const event of events) db.transaction(() => outbox.append([event]))();
    await waitFor('30 events', () => received.length === 30);
    expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('publishes nothing from a transaction that rolled back', async () => {
    const { transport, received } = await consumer(`sqlite:${freshFile('queue')}`);
    const db = openSqlite(freshFile('service'));
    cleanups.push(() => void db.close());
    const outbox = new SqliteOutboxTable(db);
    const r = relay(outbox, transport);
    expect(() =>
      db.transaction(() => {
        outbox.append([happened(1)]);
        throw new Error('payment row failed a constraint');
      })(),
    ).toThrow('constraint');
    db.transaction(() => outbox.append([happened(2)]))();
    await waitFor('the committed event', () => received.length === 1);
    await delay(150);
    expect(received.map((e) => e.data)).toEqual([{ n: 2 }]);
    expect(r.backlog().count).toBe(0);
  });

  it('publishes what a process committed even though it died before relaying', async () => {
    const serviceFile = freshFile('service');
    const writer = startChild<{ kind: string; ids: string[] }>(
      new URL('./outbox-crash-writer.ts', import.meta.url).href,
      [serviceFile, '25'],
    );
    const { ids } = await writer.next((r) => r.kind === 'committed');
    await writer.exited;
    expect(writer.process.signalCode).toBe('SIGKILL');

    const { transport, received } = await consumer(`sqlite:${freshFile('queue')}`);
    const db = openSqlite(serviceFile);
    cleanups.push(() => void db.close());
    relay(new SqliteOutboxTable(db), transport);
    await waitFor('the 25 committed events', () => received.length === 25);
    expect(received.map((e) => e.id)).toEqual(ids);
  });

  it('lets several relays run: one leads, every event is published once, in order', async () => {
    const { transport, received } = await consumer(`sqlite:${freshFile('queue')}`);
    const serviceFile = freshFile('service');
    const writerDb = openSqlite(serviceFile);
    cleanups.push(() => void writerDb.close());
    const outbox = new SqliteOutboxTable(writerDb);
    for (let relays = 0; relays < 3; relays++) {
      const db = openSqlite(serviceFile);
      cleanups.push(() => void db.close());
      relay(new SqliteOutboxTable(db), transport);
    }
    const events = Array.from({ length: 300 }, (_, i) => happened(i));
    for (let i = 0; i < events.length; i += 3) writerDb.transaction(() => outbox.append(events.slice(i, i + 3)))();
    await waitFor('300 events', () => received.length >= 300);
    await delay(200);
    expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('keeps rows while the transport refuses them, and publishes them once it accepts', async () => {
    const queueUrl = `sqlite:${freshFile('queue')}`;
    const producer = await openTransport(queueUrl);
    cleanups.push(() => producer.close());
    const db = openSqlite(freshFile('service'));
    cleanups.push(() => void db.close());
    const outbox = new SqliteOutboxTable(db);
    const errors: unknown[] = [];
    const r = new OutboxRelay({ outbox, transport: producer, pollMs: 20, onError: (e) => errors.push(e) }).start();
    cleanups.push(() => r.stop());
    // No group is declared yet: the transport refuses the event as unroutable.
    db.transaction(() => outbox.append([happened(1)]))();
    await waitFor('a refusal', () => errors.length > 0);
    expect(r.backlog().count).toBe(1);
    const { received } = await consumer(queueUrl);
    await waitFor('the event, once routable', () => received.length === 1, 10_000);
    expect(r.backlog().count).toBe(0);
  });
});

describe('outbox in the transport database (no relay hop)', () => {
  it('commits the business row and its queue rows together, or neither', async () => {
    const file = freshFile('shared');
    const { received } = await consumer(`sqlite:${file}`);
    const db = openSqlite(file);
    cleanups.push(() => void db.close());
    db.exec('CREATE TABLE payments (id TEXT PRIMARY KEY)');
    const outbox = new SqliteQueueWriter(db);
    const pay = (id: string, fail: boolean) =>
      db.transaction(() => {
        db.prepare('INSERT INTO payments (id) VALUES (?)').run(id);
        outbox.append([happened(id.length, { key: id })]);
        if (fail) throw new Error('abort');
      })();
    expect(() => pay('pay_rolled_back', true)).toThrow('abort');
    pay('pay_ok', false);
    await waitFor('the committed event', () => received.length === 1);
    await delay(100);
    expect(received.map((e) => e.orderingkey)).toEqual(['pay_ok']);
    expect(db.prepare('SELECT id FROM payments').pluck().all()).toEqual(['pay_ok']);
  });
});
