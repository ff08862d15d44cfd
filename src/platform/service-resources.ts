import {
  type Migration,
  migrate,
  type Outbox,
  type OutboxBacklog,
  OutboxRelay,
  OutboxTable,
  type SqlDatabase,
  type Transport,
} from '@syncopate/messaging';
import type { Logger } from 'pino';
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
  /** The transport's own database, where services keep their tables beside the queue; the transport closes it. */
  private queueDatabase: SqlDatabase | undefined;

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
    // Where the transport offers its own database (the embedded SQLite file), a service that
    // publishes events keeps its tables there, so its events are queue rows of its own transactions.
    if (options?.publishesEvents && !this.parts.config.DATABASE_URL) {
      this.queueDatabase ??= await this.parts.transport.queueDatabase();
      if (this.queueDatabase) {
        await migrate(this.queueDatabase, service, migrations);
        return this.queueDatabase;
      }
    }
    const db = await openServiceDatabase(this.parts.config, service, migrations, options);
    this.databases.push(db);
    return db;
  }

  /**
   * Where the service writes the events of its transactions. When its database is the one the
   * transport keeps its queue in (the transport decides), the queue rows themselves (no relay
   * hop); otherwise an outbox table in its own database, relayed to the transport.
   */
  async outbox(service: string, db: SqlDatabase): Promise<Outbox> {
    const direct = await this.parts.transport.sameDatabaseOutbox(db);
    if (direct) return direct;
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
    const databases = this.queueDatabase ? [...this.databases, this.queueDatabase] : this.databases;
    await Promise.all(databases.map((db) => db.get('SELECT 1 AS ok')));
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

  /** Relays first (they publish to the transport), then the databases. */
  async close(): Promise<void> {
    await Promise.all(this.relays.map(({ relay }) => relay.stop()));
    await Promise.all(this.databases.map((db) => db.close()));
  }
}
