import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Envelope, openTransport, type Transport } from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, waitFor } from '../../../test/support/wait.js';
import { openSqlite } from '../src/open-sqlite.js';
import { SqliteQueueWriter } from '../src/queue-writer.js';
import '../src/register.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-queue-writer-'));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function consumer(url: string) {
  const transport: Transport = await openTransport(url);
  cleanups.push(() => transport.close());
  const received: Envelope[] = [];
  await transport.subscribe({ group: 'g', events: [TestHappened], handler: ({ event }) => void received.push(event) });
  return { received };
}

describe('outbox in the transport database (no relay hop)', () => {
  it('commits the business row and its queue rows together, or neither', async () => {
    const file = join(dir, 'shared.db');
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
