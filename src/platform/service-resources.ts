import type { Logger } from 'pino';
import type { Transport } from '../messaging/index.js';
import type { Outbox } from '../messaging/outbox/outbox.js';
import { OutboxRelay } from '../messaging/outbox/outbox-relay.js';
import { OutboxTable } from '../messaging/outbox/outbox-table.js';
import type { Migration, SqlDatabase } from '../messaging/sql/sql-database.js';
import type { SqliteOpenOptions } from '../messaging/transports/sqlite/database.js';
import type { Config } from './config.js';
import { openServiceDatabase } from './database.js';

/**
 * The databases and outbox relays of the services in one process: opened on a service's request,
 * relays running while the services run, everything closed after the services have stopped.
 */
export class ServiceResources {
  private readonly databases: SqlDatabase[] = [];
  private readonly relays: OutboxRelay[] = [];
  private started = false;

  constructor(
    private readonly parts: { config: Pick<Config, 'DATABASE_URL' | 'dataDir'>; transport: Transport; logger: Logger },
  ) {}

  async database(service: string, migrations: readonly Migration[], options?: SqliteOpenOptions): Promise<SqlDatabase> {
    const db = await openServiceDatabase(this.parts.config, service, migrations, options);
    this.databases.push(db);
    return db;
  }

  async outbox(db: SqlDatabase): Promise<Outbox> {
    const outbox = await OutboxTable.open(db);
    const relay = new OutboxRelay({
      outbox,
      transport: this.parts.transport,
      onError: (error) => this.parts.logger.warn({ err: error }, 'outbox relay could not publish; it will retry'),
    });
    this.relays.push(relay);
    if (this.started) relay.start();
    return outbox;
  }

  get relaysRunning(): boolean {
    return this.relays.every((relay) => relay.running);
  }

  startRelays(): void {
    this.started = true;
    for (const relay of this.relays) relay.start();
  }

  /** Relays first (they publish to the transport), then the databases. */
  async close(): Promise<void> {
    await Promise.all(this.relays.map((relay) => relay.stop()));
    await Promise.all(this.databases.map((db) => db.close()));
  }
}
