import type { Envelope } from '../../envelope.js';
import { UnroutableEventError } from '../../errors.js';
import type { Outbox } from '../../outbox/outbox.js';
import type { SqlExecutor } from '../../sql/sql-database.js';
import { FAN_OUT_SQL, fanOutParams } from './queue-writer.js';
import { announcePublished } from './wakeups.js';

/**
 * The outbox that is the queue, on SQLite: for a service whose database is the transport's own
 * file, its events are written as delivery rows in the service's own transaction. One commit
 * (and one fsync) holds the change and its events; no outbox table, no relay hop.
 */
export class SqliteQueueOutbox implements Outbox {
  /** `file`: the transport's database file, as the transport opened it (its consumers listen on it). */
  constructor(private readonly file: string) {}

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
