import type { Database, Statement } from 'better-sqlite3';
import { GroupCommit } from '../../messaging/group-commit.js';

export const EMAIL_MIGRATIONS = [
  `CREATE TABLE sent_emails (
     event_id   TEXT PRIMARY KEY,
     message_id TEXT NOT NULL,
     recipient  TEXT NOT NULL,
     sent_at    TEXT NOT NULL
   ) WITHOUT ROWID;`,
];

export interface SentEmail {
  eventId: string;
  messageId: string;
  recipient: string;
  sentAt: Date;
}

/** The emails this service has handed over, by event id: what makes a redelivered event send nothing. */
export class SentEmails {
  private readonly lookup: Statement;
  private readonly insert: Statement;
  /** Concurrent sends share one commit: one fsync per batch of receipts, not one per receipt. */
  private readonly commits: GroupCommit;

  constructor(db: Database) {
    this.commits = new GroupCommit(db);
    this.lookup = db.prepare('SELECT 1 FROM sent_emails WHERE event_id = ?').pluck();
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO sent_emails (event_id, message_id, recipient, sent_at) VALUES (?, ?, ?, ?)',
    );
  }

  has(eventId: string): boolean {
    return this.lookup.get(eventId) !== undefined;
  }

  /** Resolves once the record is durable. */
  async record(sent: SentEmail): Promise<void> {
    await this.commits.run(() =>
      this.insert.run(sent.eventId, sent.messageId, sent.recipient, sent.sentAt.toISOString()),
    );
  }
}
