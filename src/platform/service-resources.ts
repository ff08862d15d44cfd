import type { Logger } from 'pino';
import type { Transport } from '../messaging/index.js';
import type { Outbox } from '../messaging/outbox/outbox.js';
import { type OutboxBacklog, OutboxRelay } from '../messaging/outbox/outbox-relay.js';
import { OutboxTable } from '../messaging/outbox/outbox-table.js';
import { type Migration, migrate, type SqlDatabase } from '../messaging/sql/sql-database.js';
import { SqliteDatabase } from '../messaging/sql/sqlite-database.js';
import { sqliteFileOf } from '../messaging/transports/open-transport.js';
import { PostgresQueueOutbox } from '../messaging/transports/postgres/queue-outbox.js';
import { parsePostgresUrl } from '../messaging/transports/postgres/url.js';
import { SqliteQueueOutbox } from '../messaging/transports/sqlite/queue-outbox.js';
import type { Config } from './config.js';
import { openServiceDatabase } from './database.js';
import type { ServiceDatabaseOptions } from './service.js';

/**
 * The databases and outbox relays of the services in one process: opened on a service's request,
 * relays running while the services run, everything closed after the services have stopped.
 */
export class ServiceResources {
  private readonly databases: SqlDatabase[] = [];
  private readonly relays: { service: string; relay: OutboxRelay }[] = [];
  private started = false;
  /** The transport's own SQLite file, opened for the services that keep their tables beside the queue. */
  private queueFileDatabase: SqliteDatabase | undefined;

  constructor(
    private readonly parts: {
      config: Pick<Config, 'DATABASE_URL' | 'dataDir' | 'TRANSPORT_URL'>;
      transport: Transport;
      logger: Logger;
    },
  ) {}

  async database(
    service: string,
    migrations: readonly Migration[],
    options?: ServiceDatabaseOptions,
  ): Promise<SqlDatabase> {
    const queueFile = sqliteFileOf(this.parts.config.TRANSPORT_URL);
    if (options?.publishesEvents && queueFile && !this.parts.config.DATABASE_URL) {
      // One SqliteDatabase per file in a process: services beside the queue share it.
      if (!this.queueFileDatabase) {
        this.queueFileDatabase = new SqliteDatabase(queueFile);
        this.databases.push(this.queueFileDatabase);
      }
      await migrate(this.queueFileDatabase, service, migrations);
      return this.queueFileDatabase;
    }
    const db = await openServiceDatabase(this.parts.config, service, migrations, options);
    this.databases.push(db);
    return db;
  }

  /**
   * Where the service writes the events of its transactions. When its database is the PostgreSQL
   * database the transport uses, the queue rows themselves (no relay hop); otherwise an outbox
   * table in its own database, relayed to the transport.
   */
  async outbox(service: string, db: SqlDatabase): Promise<Outbox> {
    const queueSchema = sameDatabaseQueue(db, this.parts.config.TRANSPORT_URL);
    if (queueSchema) return new PostgresQueueOutbox(queueSchema);
    if (db === this.queueFileDatabase) return SqliteQueueOutbox.open(db);
    const outbox = await OutboxTable.open(db);
    const relay = new OutboxRelay({
      outbox,
      transport: this.parts.transport,
      onError: (error) => this.parts.logger.warn({ err: error }, 'outbox relay could not publish; it will retry'),
    });
    this.relays.push({ service, relay });
    if (this.started) relay.start();
    return outbox;
  }

  /** Each outbox's backlog, labelled by the service whose database holds it. */
  backlogs(): Promise<{ service: string; backlog: OutboxBacklog }[]> {
    return Promise.all(this.relays.map(async ({ service, relay }) => ({ service, backlog: await relay.backlog() })));
  }

  /** Resolves when every database answers a query; rejects with the first that does not. */
  async ping(): Promise<void> {
    await Promise.all(this.databases.map((db) => db.get('SELECT 1 AS ok')));
  }

  /**
   * Whether every outbox relay runs; undefined when no service has one (its events are written
   * straight into the queue): then there is nothing to check, rather than a check that always passes.
   */
  get relaysRunning(): boolean | undefined {
    return this.relays.length === 0 ? undefined : this.relays.every(({ relay }) => relay.running);
  }

  startRelays(): void {
    this.started = true;
    for (const { relay } of this.relays) relay.start();
  }

  /** Stops every relay after the batch in hand; unpublished rows stay for the next start. */
  async stopRelays(): Promise<void> {
    await Promise.all(this.relays.map(({ relay }) => relay.stop()));
  }

  /** Relays first (they publish to the transport), then the databases. */
  async close(): Promise<void> {
    await this.stopRelays();
    await Promise.all(this.databases.map((db) => db.close()));
  }
}

/** The transport's queue schema, when the transport is PostgreSQL on the very database `db` is in. */
function sameDatabaseQueue(db: SqlDatabase, transportUrl: string): string | undefined {
  if (db.dialect !== 'postgres' || !/^postgres(ql)?:\/\//.test(transportUrl)) return undefined;
  const transport = new URL(transportUrl);
  const database = new URL(db.location);
  const same =
    transport.hostname === database.hostname &&
    (transport.port || '5432') === (database.port || '5432') &&
    transport.pathname === database.pathname;
  return same ? parsePostgresUrl(transportUrl).schema : undefined;
}
