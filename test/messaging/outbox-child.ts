/**
 * A process of its own around the outbox, for what only real processes prove:
 * `write <db-url> <count>` commits a business row and its events in one transaction, then dies
 * by SIGKILL before any relay runs; `relay <db-url> <transport-url>` runs a relay until killed.
 */
import { OutboxRelay, OutboxTable, openTransport } from '@syncopate/messaging';
import { happened } from '@syncopate/messaging/testing';
import { openSqlDatabase } from '../../src/platform/open-sql-database.js';
import '../../src/app/transports.js';

const [mode, dbUrl, arg, schema] = process.argv.slice(2) as [string, string, string, string | undefined];
const db = await openSqlDatabase(dbUrl, { schema: schema ?? 'outbox_test' });
const outbox = await OutboxTable.open(db);
if (mode === 'write') {
  await db.run('CREATE TABLE IF NOT EXISTS orders (n BIGINT PRIMARY KEY)');
  const events = Array.from({ length: Number(arg) }, (_, n) => happened(n, { key: `order_${n % 3}` }));
  await db.transaction(async (tx) => {
    for (const event of events) await tx.run('INSERT INTO orders (n) VALUES (?)', [event.data.n]);
    await outbox.append(tx, events);
  });
  process.send?.({ kind: 'committed', ids: events.map((e) => e.id) }, () => process.kill(process.pid, 'SIGKILL'));
} else {
  const transport = await openTransport(arg);
  new OutboxRelay({ outbox, transport, pollMs: 20 }).start();
  process.send?.({ kind: 'ready', ids: [] });
}
