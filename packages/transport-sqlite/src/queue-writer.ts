import { type Envelope, UnroutableEventError } from '@syncopate/messaging';
import { announcePublished, encodeEnvelope } from '@syncopate/messaging/driver';
import type { Database, Statement } from 'better-sqlite3';
import { migrateQueueSchema } from './schema.js';

/** One delivery row per group bound to the event's type. Parameters: `fanOutParams`. */
export const FAN_OUT_SQL = `
  INSERT INTO syncopate_deliveries (grp, event_id, type, okey, body, published_at, visible_at)
  SELECT grp, ?, ?, ?, ?, ?, ? FROM syncopate_bindings WHERE type = ?`;

export function fanOutParams(event: Envelope, now: number): unknown[] {
  return [event.id, event.type, event.orderingkey ?? null, encodeEnvelope(event), now, now, event.type];
}

/**
 * Writes events into the queue tables through a given connection. Called inside a caller's
 * transaction, the events commit or roll back with the caller's own rows: this is the outbox
 * with no relay hop, used when a service keeps its data in the transport's database file.
 */
export class SqliteQueueWriter {
  private readonly fanOut: Statement;
  private readonly declare: Statement;

  constructor(private readonly db: Database) {
    migrateQueueSchema(db);
    this.fanOut = db.prepare(FAN_OUT_SQL);
    this.declare = db.prepare('INSERT OR IGNORE INTO syncopate_bindings (grp, type) VALUES (?, ?)');
  }

  declareGroup(group: string, eventTypes: readonly string[]): void {
    this.db.transaction(() => {
      for (const type of eventTypes) this.declare.run(group, type);
    })();
  }

  /**
   * Appends the events, one row per bound group; throws (and so rolls the caller's transaction
   * back) if an event has no group. Must run inside a transaction for a batch to be atomic.
   */
  append(events: readonly Envelope[]): void {
    const now = Date.now();
    for (const event of events) {
      const { changes } = this.fanOut.run(...fanOutParams(event, now));
      if (changes === 0) throw new UnroutableEventError(event.type);
    }
    // Runs after the caller's synchronous transaction has committed (or rolled back: a harmless wake-up).
    queueMicrotask(() => announcePublished(this.db.name));
  }

  /** Appends in a transaction of its own (one INSERT is atomic by itself). */
  publish(events: readonly Envelope[]): void {
    if (events.length === 1) this.append(events);
    else this.db.transaction(() => this.append(events)).immediate();
  }
}
