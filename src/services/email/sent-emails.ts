import type { SqlDatabase } from '@syncopate/messaging';

export const EMAIL_MIGRATIONS = [
  `CREATE TABLE sent_emails (
     event_id   TEXT PRIMARY KEY,
     message_id TEXT NOT NULL,
     recipient  TEXT NOT NULL,
     sent_at    TEXT NOT NULL
   )`,
];

export interface SentEmail {
  eventId: string;
  messageId: string;
  recipient: string;
  sentAt: Date;
}

/** The emails this service has handed over, by event id: what makes a redelivered event send nothing. */
export class SentEmails {
  constructor(private readonly db: SqlDatabase) {}

  async has(eventId: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS found FROM sent_emails WHERE event_id = ?', [eventId])) !== undefined;
  }

  /** Resolves once the record is durable; concurrent sends share one commit on SQLite. */
  async record(sent: SentEmail): Promise<void> {
    await this.db.transaction((tx) =>
      tx.run(
        'INSERT INTO sent_emails (event_id, message_id, recipient, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [sent.eventId, sent.messageId, sent.recipient, sent.sentAt.toISOString()],
      ),
    );
  }
}
