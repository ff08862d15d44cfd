import type { Database, Statement } from 'better-sqlite3';
import { GroupCommit } from '../group-commit.js';
import type { Message } from '../transport.js';

const DDL = `
CREATE TABLE IF NOT EXISTS syncopate_inbox (
  grp          TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (grp, event_id)
) WITHOUT ROWID;
`;

export type InboxResult<T> = { processed: true; result: T } | { processed: false };

/**
 * The idempotent-consumer helper: a consumer records the events it has processed in its own
 * database, in the same transaction as its own write, so a redelivered event changes nothing.
 */
export class SqliteInbox {
  private readonly record: Statement;
  private readonly lookup: Statement;
  private readonly prune: Statement;
  private readonly commits: GroupCommit;

  constructor(private readonly db: Database) {
    db.transaction(() => db.exec(DDL)).immediate();
    this.record = db.prepare('INSERT OR IGNORE INTO syncopate_inbox (grp, event_id, processed_at) VALUES (?, ?, ?)');
    this.lookup = db.prepare('SELECT 1 FROM syncopate_inbox WHERE grp = ? AND event_id = ?').pluck();
    this.prune = db.prepare('DELETE FROM syncopate_inbox WHERE processed_at < ?');
    this.commits = new GroupCommit(db);
  }

  /**
   * Runs `write` and records the event in one transaction, unless this group already processed
   * it: then nothing runs and `processed` is false. `write` must be synchronous database work.
   * Resolves once durable; concurrent handlers share one commit (group commit), so a consumer
   * pays one fsync per batch of messages, not one per message.
   */
  once<T>(message: Pick<Message, 'group' | 'event'>, write: () => T): Promise<InboxResult<T>> {
    return this.commits.run((): InboxResult<T> => {
      const { changes } = this.record.run(message.group, message.event.id, Date.now());
      if (changes === 0) return { processed: false };
      return { processed: true, result: write() };
    });
  }

  has(message: Pick<Message, 'group' | 'event'>): boolean {
    return this.lookup.get(message.group, message.event.id) !== undefined;
  }

  /** Forgets ids older than the given age; keep it well past the longest redelivery window. */
  forgetOlderThan(ageMs: number): number {
    return this.prune.run(Date.now() - ageMs).changes;
  }
}
