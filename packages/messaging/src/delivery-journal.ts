import { Batcher } from './batcher.js';
import { migrate, type SqlDatabase } from './sql-database.js';
import type { AttemptReport, SubscriptionHooks } from './transport.js';

const MIGRATIONS = [
  `CREATE TABLE syncopate_delivery_journal (
     grp             TEXT NOT NULL,
     event_id        TEXT NOT NULL,
     type            TEXT NOT NULL,
     subject         TEXT,
     state           TEXT NOT NULL,
     attempts        BIGINT NOT NULL,
     last_error      TEXT,
     next_attempt_at BIGINT,
     updated_at      BIGINT NOT NULL,
     PRIMARY KEY (grp, event_id))`,
  'CREATE INDEX syncopate_delivery_journal_by_event ON syncopate_delivery_journal (event_id)',
];

/** Where one event stands in one group. `pending` (published, no attempt settled yet) has no row. */
export type DeliveryState = 'delivered' | 'retrying' | 'dead_lettered' | 'replayed' | 'purged';

export interface DeliveryRecord {
  group: string;
  eventId: string;
  type: string;
  subject: string | null;
  state: DeliveryState;
  /** Attempts settled so far (0 after a replay from the dead-letter queue). */
  attempts: number;
  lastError: string | null;
  /** When a `retrying` message is due again. */
  nextAttemptAt: Date | null;
  updatedAt: Date;
}

interface Row {
  grp: string;
  event_id: string;
  type: string;
  subject: string | null;
  state: DeliveryState;
  attempts: number | string;
  last_error: string | null;
  next_attempt_at: number | string | null;
  updated_at: number | string;
}

const MAX_ERROR_CHARS = 1_000;
/** Bound on ids per lookup: a payment has a handful of events. */
export const MAX_JOURNAL_LOOKUP = 100;

/**
 * The answer to "did the receipt go out?": each settled attempt of each group, recorded by the
 * shared consumer runner's hooks, so it holds on every transport. Writes are batched and need not
 * reach the disk: a crash loses at most the latest state, which the redelivered attempt writes again.
 */
export class DeliveryJournal {
  private readonly writes: Batcher<AttemptReport & { at: number }>;

  private constructor(private readonly db: SqlDatabase) {
    this.writes = new Batcher((reports) => this.write(reports));
  }

  static async open(db: SqlDatabase): Promise<DeliveryJournal> {
    await migrate(db, 'syncopate_delivery_journal', MIGRATIONS);
    return new DeliveryJournal(db);
  }

  hooks(onError: (error: unknown) => void = () => {}): SubscriptionHooks {
    return {
      onSettled: (report) => {
        if (report.event) this.writes.add({ ...report, at: Date.now() }).catch(onError);
      },
    };
  }

  /** Resolves once every attempt reported so far is written. */
  flushed(): Promise<void> {
    return this.writes.idle();
  }

  async forEvents(eventIds: readonly string[]): Promise<DeliveryRecord[]> {
    if (eventIds.length === 0) return [];
    if (eventIds.length > MAX_JOURNAL_LOOKUP)
      throw new RangeError(`at most ${MAX_JOURNAL_LOOKUP} event ids per lookup`);
    const rows = await this.db.all<Row>(
      `SELECT * FROM syncopate_delivery_journal WHERE event_id IN (${eventIds.map(() => '?').join(', ')})`,
      eventIds,
    );
    return rows.map(toRecord);
  }

  /** A replayed dead letter is back on its queue: pending again, with its attempts reset. */
  async markReplayed(group: string, eventId?: string): Promise<void> {
    await this.mark('replayed', group, eventId);
  }

  async markPurged(group: string, eventId?: string): Promise<void> {
    await this.mark('purged', group, eventId);
  }

  /** Forgets records untouched for `ageMs`. */
  async forgetOlderThan(ageMs: number): Promise<number> {
    return (await this.db.run('DELETE FROM syncopate_delivery_journal WHERE updated_at < ?', [Date.now() - ageMs]))
      .changes;
  }

  private async mark(state: 'replayed' | 'purged', group: string, eventId?: string): Promise<void> {
    // The attempt that dead-lettered the letter may still be on its way here (writes are batched):
    // written after this update, it would turn a purged or replayed letter back into a dead one.
    await this.flushed();
    const only = eventId === undefined ? '' : ' AND event_id = ?';
    await this.db.run(
      `UPDATE syncopate_delivery_journal SET state = ?, attempts = 0, next_attempt_at = NULL, updated_at = ?
       WHERE grp = ? AND state = 'dead_lettered'${only}`,
      [state, Date.now(), group, ...(eventId === undefined ? [] : [eventId])],
    );
  }

  private async write(reports: (AttemptReport & { at: number })[]): Promise<void> {
    await this.db.transaction(
      async (tx) => {
        for (const report of reports) {
          const { outcome } = report;
          const state: DeliveryState =
            outcome.kind === 'ack' ? 'delivered' : outcome.kind === 'retry' ? 'retrying' : 'dead_lettered';
          const error =
            outcome.kind === 'retry' ? outcome.error : outcome.kind === 'dead-letter' ? outcome.reason : null;
          // A slower process's report of an earlier attempt must not overwrite a later one.
          await tx.run(
            `INSERT INTO syncopate_delivery_journal
               (grp, event_id, type, subject, state, attempts, last_error, next_attempt_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (grp, event_id) DO UPDATE SET
               state = excluded.state, attempts = excluded.attempts,
               last_error = COALESCE(excluded.last_error, syncopate_delivery_journal.last_error),
               next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at
             WHERE excluded.attempts >= syncopate_delivery_journal.attempts`,
            [
              report.group,
              report.eventId,
              report.event?.type ?? 'unknown',
              report.event?.subject ?? null,
              state,
              report.attempt,
              error === null ? null : error.slice(0, MAX_ERROR_CHARS),
              outcome.kind === 'retry' ? report.at + outcome.delayMs : null,
              report.at,
            ],
          );
        }
      },
      { durable: false },
    );
  }
}

function toRecord(row: Row): DeliveryRecord {
  return {
    group: row.grp,
    eventId: row.event_id,
    type: row.type,
    subject: row.subject,
    state: row.state,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at === null ? null : new Date(Number(row.next_attempt_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}
