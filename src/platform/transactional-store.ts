import { join, resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Outbox } from '../messaging/outbox/outbox.js';
import { OutboxRelay } from '../messaging/outbox/outbox-relay.js';
import { SqliteOutboxTable } from '../messaging/outbox/sqlite-outbox.js';
import { sqliteFileOf } from '../messaging/transports/open-transport.js';
import { openSqlite } from '../messaging/transports/sqlite/database.js';
import { SqliteQueueWriter } from '../messaging/transports/sqlite/queue-writer.js';
import { migrate } from './database.js';
import type { ServiceContext } from './service.js';

/**
 * The database of a service that publishes events from its own transactions.
 *
 * On the embedded SQLite transport the service keeps its tables in the queue's own file, so its
 * outbox rows are the queue's rows: one transaction, no relay hop. On any other transport it keeps
 * its own file with an outbox table, and a relay forwards the rows.
 */
export interface TransactionalStore {
  /** Commits with full durability: the ones that carry events or answer a client. */
  db: Database;
  /** Commits without waiting for the disk: only for rows whose loss a retry repairs. */
  fastDb: Database;
  outbox: Outbox;
  mode: 'queue-file' | 'outbox-relay';
  start(): void;
  close(): Promise<void>;
}

export function openTransactionalStore(
  context: Pick<ServiceContext, 'config' | 'transport' | 'logger'>,
  options: { service: string; migrations: readonly string[] },
): TransactionalStore {
  const queueFile = sqliteFileOf(context.config.TRANSPORT_URL);
  const file = queueFile ? resolve(queueFile) : join(context.config.dataDir, `${options.service}.db`);
  const db = openSqlite(file);
  migrate(db, options.service, options.migrations);
  const fastDb = openSqlite(file, { synchronous: 'normal' });
  if (queueFile) {
    return {
      db,
      fastDb,
      outbox: new SqliteQueueWriter(db),
      mode: 'queue-file',
      start() {},
      async close() {
        fastDb.close();
        db.close();
      },
    };
  }
  const outbox = new SqliteOutboxTable(db);
  const relay = new OutboxRelay({
    outbox,
    transport: context.transport,
    onError: (error) => context.logger.warn({ err: error }, 'outbox relay could not publish; will retry'),
  });
  return {
    db,
    fastDb,
    outbox,
    mode: 'outbox-relay',
    start: () => void relay.start(),
    async close() {
      await relay.stop();
      fastDb.close();
      db.close();
    },
  };
}
