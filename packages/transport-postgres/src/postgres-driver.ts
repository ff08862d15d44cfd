import {
  type DeadLetterQueue,
  type Envelope,
  type GroupQueue,
  type GroupQueueOptions,
  type GroupStats,
  type Outbox,
  type SqlDatabase,
  type TransportCapabilities,
  TransportClosedError,
  type TransportDriver,
} from '@syncopate/messaging';
import pg from 'pg';
import { appendEvents } from './append-events.js';
import { PostgresDeadLetters } from './dead-letter-store.js';
import { PostgresGroupQueue } from './group-queue.js';
import { PostgresQueueOutbox } from './queue-outbox.js';
import { type QueueSql, queueSql } from './queue-sql.js';
import { migratePostgresQueue, quoted, wakeChannel } from './schema.js';
import { type PostgresUrlOptions, parsePostgresUrl } from './url.js';
import { Wakeups } from './wakeups.js';

/**
 * Opens the PostgreSQL transport: `postgres://user@host:5432/db?schema=syncopate&pool=10&poll=1000&notify=after`.
 * Creates the schema's tables if they are missing; fails at once if the server does not answer.
 */
export async function openPostgresDriver(url: string): Promise<PostgresDriver> {
  const driver = new PostgresDriver(parsePostgresUrl(url));
  try {
    await migratePostgresQueue(driver.pool, driver.schema);
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}

/**
 * A queue in PostgreSQL tables: one row per (group, event), claimed with FOR UPDATE SKIP LOCKED in
 * batches, settled in batches, consumers woken by LISTEN/NOTIFY with a poll as the safety net.
 */
export class PostgresDriver implements TransportDriver {
  readonly name = 'postgres';
  readonly capabilities: TransportCapabilities = {
    durable: true,
    crossProcess: true,
    perKeyOrder: true,
    leases: 'timed',
    unknownStats: [],
  };
  readonly deadLetters: DeadLetterQueue;
  /** Publishes, group declarations and dead-letter operations: they commit with the server's durability. */
  readonly pool: pg.Pool;
  /**
   * Claims, acks, lease renewals, retries, releases, dead-letter moves and notifications commit
   * without waiting for the WAL flush (`synchronous_commit=off`). A server crash can only undo
   * the last of them, which brings a message back (a redelivery at-least-once allows) and never
   * loses one: the WAL is written in order, so any later durable commit makes them durable too.
   */
  private readonly bookkeeping: pg.Pool;
  readonly schema: string;
  private readonly options: PostgresUrlOptions;
  private readonly sql: QueueSql;
  private readonly wakeups: Wakeups;
  private readonly queues = new Set<GroupQueue>();
  private notifying: Promise<void> | undefined;
  private notifyAgain = false;
  private closed = false;

  constructor(options: PostgresUrlOptions) {
    this.options = options;
    this.schema = options.schema;
    this.pool = openPool(options, 'syncopate', GENERIC_PLANS);
    this.bookkeeping = openPool(options, 'syncopate-consumer', `${GENERIC_PLANS} -c synchronous_commit=off`);
    this.sql = queueSql(options.schema);
    this.wakeups = new Wakeups({ connectionString: options.connectionString, schema: options.schema });
    this.deadLetters = new PostgresDeadLetters({
      pool: this.pool,
      schema: options.schema,
      onReplayed: () => this.announce(),
    });
  }

  async declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    this.assertOpen();
    await this.pool.query(
      `INSERT INTO ${quoted(this.schema)}.bindings (grp, type) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
      [group, eventTypes],
    );
  }

  async publish(events: readonly Envelope[]): Promise<void> {
    this.assertOpen();
    await appendEvents(this.pool, events, {
      schema: this.schema,
      notify: this.options.notify === 'commit',
      wakePayload: this.wakeups.payload,
    });
    this.wakeups.announce();
    if (this.options.notify === 'after') this.notifyOthers();
  }

  async openQueue(options: GroupQueueOptions): Promise<GroupQueue> {
    this.assertOpen();
    await this.wakeups.listen();
    const queue: GroupQueue = new PostgresGroupQueue({
      ...options,
      pool: this.bookkeeping,
      sql: this.sql,
      schema: this.schema,
      wakeups: this.wakeups,
      pollMs: this.options.pollMs,
      notifyOthers: () => this.notifyOthers(),
      onClose: () => this.queues.delete(queue),
    });
    this.queues.add(queue);
    return queue;
  }

  /**
   * One statement over the group's part of the primary key (no bodies): a row is in flight while
   * its lease runs; one whose lease lapsed is waiting again, like one waiting for its retry's delay.
   */
  async stats(group: string): Promise<GroupStats> {
    this.assertOpen();
    const s = quoted(this.schema);
    const { rows } = await this.pool.query<{
      waiting: number;
      delayed: number;
      in_flight: number;
      oldest_age_ms: number | null;
      dead_lettered: number;
    }>({
      name: `syncopate-stats-${this.schema}`,
      text: `
SELECT
  count(*) FILTER (WHERE NOT (lease IS NOT NULL AND visible_at > now()))::int AS waiting,
  count(*) FILTER (WHERE lease IS NULL AND visible_at > now())::int AS delayed,
  count(*) FILTER (WHERE lease IS NOT NULL AND visible_at > now())::int AS in_flight,
  (extract(epoch FROM now() - min(published_at) FILTER (WHERE NOT (lease IS NOT NULL AND visible_at > now())))
    * 1000)::float8 AS oldest_age_ms,
  (SELECT count(*) FROM ${s}.dead_letters WHERE grp = $1)::int AS dead_lettered
FROM ${s}.deliveries WHERE grp = $1`,
      values: [group],
    });
    const row = rows[0];
    if (!row) throw new Error('the stats query returned no row');
    return {
      group,
      waiting: row.waiting,
      delayed: row.delayed,
      inFlight: row.in_flight,
      deadLettered: row.dead_lettered,
      oldestWaitingAgeMs: row.oldest_age_ms === null ? 0 : Math.max(0, Math.round(row.oldest_age_ms)),
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.pool.query('SELECT 1');
  }

  /**
   * For a service database in this very PostgreSQL database (its own schema beside the queue's):
   * its transactions write queue rows, one commit with their change, woken by the commit's NOTIFY.
   * A server named two ways (`localhost`, `127.0.0.1`) counts as two: the outbox table and relay
   * then carry the events, which is slower, never wrong.
   */
  async sameDatabaseOutbox(db: SqlDatabase): Promise<Outbox | undefined> {
    this.assertOpen();
    if (db.dialect !== 'postgres' || !sameDatabase(db.location, this.options.connectionString)) return undefined;
    return new PostgresQueueOutbox(this.schema);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues].map((queue) => queue.close()));
    await this.wakeups.close();
    while (this.notifying) await this.notifying;
    await Promise.all([this.pool.end(), this.bookkeeping.end()]);
  }

  /** Work for this process and others: replays, releases. */
  private announce(): void {
    this.wakeups.announce();
    this.notifyOthers();
  }

  /**
   * A NOTIFY for consumers in other processes, sent after the commit on its own, at most one in
   * flight: a burst of publishes costs one or two notifications, and no publish's commit waits
   * for the notify lock (see README for the measurements).
   */
  private notifyOthers(): void {
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = this.bookkeeping
      .query('SELECT pg_notify($1, $2)', [wakeChannel(this.schema), this.wakeups.payload])
      .then(
        () => {},
        () => {}, // consumers elsewhere still poll
      )
      .finally(() => {
        this.notifying = undefined;
        if (this.notifyAgain && !this.closed) {
          this.notifyAgain = false;
          this.notifyOthers();
        }
      });
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}

/**
 * Every hot statement is prepared once per connection. Planning the claim costs more than running
 * it (measured: 0.5 ms against 0.2 ms), and PostgreSQL would otherwise keep planning statements
 * whose custom plans look cheaper; the generic plans are the index lookups the statements are written for.
 */
const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

function openPool(options: PostgresUrlOptions, applicationName: string, settings: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    application_name: applicationName,
    options: settings,
  });
  // An idle connection the server dropped is discarded by the pool; the next query opens another.
  pool.on('error', () => {});
  return pool;
}

/** Whether two PostgreSQL URLs name the same database on the same server, as written. */
function sameDatabase(a: string, b: string): boolean {
  const [x, y] = [new URL(a), new URL(b)];
  return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432') && x.pathname === y.pathname;
}
