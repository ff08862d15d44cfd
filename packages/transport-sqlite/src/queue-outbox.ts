import {
  type Envelope,
  type Outbox,
  type SqlDatabase,
  type SqlExecutor,
  UnroutableEventError,
} from '@syncopate/messaging';
import { announcePublished } from '@syncopate/messaging/driver';
import { FAN_OUT_SQL, fanOutParams } from './queue-writer.js';
import { LATE_DURABLE_WRITERS } from './schema.js';

/**
 * The outbox that is the queue, on SQLite: for a service whose database is the transport's own
 * file, its events are written as delivery rows in the service's own transaction. One commit
 * (and one fsync) holds the change and its events; no outbox table, no relay hop.
 */
export class SqliteQueueOutbox implements Outbox {
  /** `file`: the transport's database file, as the transport opened it (its consumers listen on it). */
  private constructor(private readonly file: string) {}

  /**
   * `db`: the service's database, open on the transport's file. Its commits are readable a moment
   * before they are durable (it syncs the log after COMMIT), so it first says so in the file: the
   * transport's claims then sync the log before handing events out. Where no such writer ever
   * wrote, every queue row was durable at its COMMIT and a claim's sync would be a second fsync.
   */
  static async open(db: SqlDatabase): Promise<SqliteQueueOutbox> {
    if (db.dialect !== 'sqlite') throw new Error('the SQLite queue outbox needs a SQLite database');
    await db.run('INSERT OR IGNORE INTO syncopate_markers (name) VALUES (?)', [LATE_DURABLE_WRITERS]);
    return new SqliteQueueOutbox(db.location);
  }

  async append(tx: SqlExecutor, events: readonly Envelope[]): Promise<void> {
    if (tx.dialect !== 'sqlite') throw new Error('the SQLite queue outbox needs a SQLite transaction');
    const now = Date.now();
    for (const event of events) {
      const { changes } = await tx.run(FAN_OUT_SQL, fanOutParams(event, now));
      if (changes === 0) throw new UnroutableEventError(event.type);
    }
    // Heard on a later turn of the event loop, after the batch this transaction is in has committed.
    announcePublished(this.file);
  }
}
