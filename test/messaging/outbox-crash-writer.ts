/** Commits a business row and its outbox event in one transaction, then dies before any relay runs. */
import { SqliteOutboxTable } from '../../src/messaging/outbox/sqlite-outbox.js';
import { openSqlite } from '../../src/messaging/transports/sqlite/database.js';
import { happened } from '../contract/events.js';

const [file, count] = process.argv.slice(2) as [string, string];
const db = openSqlite(file);
db.exec('CREATE TABLE IF NOT EXISTS orders (n INTEGER PRIMARY KEY)');
const outbox = new SqliteOutboxTable(db);
const events = Array.from({ length: Number(count) }, (_, n) => happened(n, { key: `order_${n % 3}` }));
db.transaction(() => {
  for (const event of events) db.prepare('INSERT INTO orders (n) VALUES (?)').run(event.data.n);
  outbox.append(events);
})();
process.send?.({ kind: 'committed', ids: events.map((e) => e.id) }, () => process.kill(process.pid, 'SIGKILL'));
