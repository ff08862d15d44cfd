import { type Envelope, encodeEnvelope } from './envelope.js';
import { announcePublished } from './in-process-publish-signal.js';
import type { Outbox } from './outbox.js';
import { migrate, type SqlDatabase, type SqlExecutor } from './sql-database.js';

const MIGRATIONS = [
  {
    sqlite: `CREATE TABLE syncopate_outbox (
               id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL, created_at BIGINT NOT NULL);
             CREATE TABLE syncopate_outbox_leader (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until BIGINT NOT NULL)`,
    postgres: `CREATE TABLE syncopate_outbox (
                 id BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL, created_at BIGINT NOT NULL);
               CREATE TABLE syncopate_outbox_leader (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until BIGINT NOT NULL)`,
  },
];

/**
 * An outbox table in a service's own database; `OutboxRelay` moves its rows to the transport.
 * Open it with `OutboxTable.open`, which creates the table once.
 */
export class OutboxTable implements Outbox {
  private constructor(readonly db: SqlDatabase) {}

  static async open(db: SqlDatabase): Promise<OutboxTable> {
    await migrate(db, 'syncopate_outbox', MIGRATIONS);
    return new OutboxTable(db);
  }

  /** The in-process channel a relay listens on, so it wakes the moment rows are committed here. */
  get channel(): string {
    return `${this.db.location}#outbox`;
  }

  async append(tx: SqlExecutor, events: readonly Envelope[]): Promise<void> {
    const now = Date.now();
    for (const event of events) {
      await tx.run('INSERT INTO syncopate_outbox (event_id, body, created_at) VALUES (?, ?, ?)', [
        event.id,
        encodeEnvelope(event),
        now,
      ]);
    }
    // Delivered on a later turn of the event loop; a relay that wakes before the commit lands
    // reads nothing yet and looks again at its next poll.
    announcePublished(this.channel);
  }
}
