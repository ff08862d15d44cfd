import { migrate, type SqlDatabase, type SqlExecutor } from './sql-database.js';
import type { Message } from './transport.js';

const MIGRATIONS = [
  `CREATE TABLE syncopate_inbox (
     grp          TEXT NOT NULL,
     event_id     TEXT NOT NULL,
     processed_at BIGINT NOT NULL,
     PRIMARY KEY (grp, event_id))`,
];

export type InboxResult<T> = { processed: true; result: T } | { processed: false };

/**
 * The idempotent-consumer helper: a consumer records the events it has processed in its own
 * database, in the same transaction as its own write, so a redelivered event changes nothing.
 */
export class Inbox {
  private constructor(private readonly db: SqlDatabase) {}

  static async open(db: SqlDatabase): Promise<Inbox> {
    await migrate(db, 'syncopate_inbox', MIGRATIONS);
    return new Inbox(db);
  }

  /**
   * Runs `write` and records the event in one transaction, unless this group already processed
   * it: then nothing runs and `processed` is false. Resolves once durable.
   */
  once<T>(message: Pick<Message, 'group' | 'event'>, write: (tx: SqlExecutor) => Promise<T>): Promise<InboxResult<T>> {
    return this.db.transaction(async (tx): Promise<InboxResult<T>> => {
      const { changes } = await tx.run(
        'INSERT INTO syncopate_inbox (grp, event_id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        [message.group, message.event.id, Date.now()],
      );
      if (changes === 0) return { processed: false };
      return { processed: true, result: await write(tx) };
    });
  }

  async has(message: Pick<Message, 'group' | 'event'>): Promise<boolean> {
    const row = await this.db.get('SELECT 1 AS found FROM syncopate_inbox WHERE grp = ? AND event_id = ?', [
      message.group,
      message.event.id,
    ]);
    return row !== undefined;
  }

  /** Forgets ids older than the given age; keep it well past the longest redelivery window. */
  async forgetOlderThan(ageMs: number): Promise<number> {
    return (await this.db.run('DELETE FROM syncopate_inbox WHERE processed_at < ?', [Date.now() - ageMs])).changes;
  }
}
