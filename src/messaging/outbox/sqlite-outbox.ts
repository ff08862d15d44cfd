import type { Database, Statement } from 'better-sqlite3';
import { type Envelope, encodeEnvelope } from '../envelope.js';
import { announcePublished } from '../transports/sqlite/wakeups.js';
import type { Outbox } from './outbox.js';

const DDL = `
CREATE TABLE IF NOT EXISTS syncopate_outbox (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id   TEXT NOT NULL UNIQUE,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS syncopate_outbox_leader (
  name  TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until INTEGER NOT NULL
);
`;

/**
 * An outbox table in a service's own SQLite database, for when the transport lives elsewhere
 * (another file, a broker). `OutboxRelay` moves its rows to the transport.
 */
export class SqliteOutboxTable implements Outbox {
  private readonly insert: Statement;

  constructor(readonly db: Database) {
    db.transaction(() => db.exec(DDL)).immediate();
    this.insert = db.prepare('INSERT INTO syncopate_outbox (event_id, body, created_at) VALUES (?, ?, ?)');
  }

  append(events: readonly Envelope[]): void {
    const now = Date.now();
    for (const event of events) this.insert.run(event.id, encodeEnvelope(event), now);
    // Runs after the caller's synchronous transaction: wakes a relay in this process at once.
    queueMicrotask(() => announcePublished(`${this.db.name}#outbox`));
  }
}
