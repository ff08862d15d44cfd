import type { Envelope, Outbox, SqlExecutor } from '@syncopate/messaging';
import { appendEvents } from './append-events.js';
import { isPostgresExecutor } from './postgres-database.js';

/**
 * The outbox that is the queue: for a service whose database is the PostgreSQL database the
 * transport uses, its events are written as queue rows in the service's own transaction. No
 * outbox table, no relay hop; the transaction's NOTIFY wakes the consumers when it commits.
 */
export class PostgresQueueOutbox implements Outbox {
  constructor(private readonly schema: string) {}

  async append(tx: SqlExecutor, events: readonly Envelope[]): Promise<void> {
    if (!isPostgresExecutor(tx)) throw new Error('the PostgreSQL queue outbox needs a PostgreSQL transaction');
    await appendEvents(tx.client, events, { schema: this.schema });
  }
}
