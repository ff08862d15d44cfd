import type { OutgoingEmail } from './outgoing-email.js';

/** Where emails go: an SMTP server, or files when there is none. */
export interface Mailer {
  /** "smtp" or "eml", for the logs. */
  readonly kind: string;
  /** Resolves once the email is accepted (by the server, or written); rejects otherwise. */
  send(email: OutgoingEmail, options: { signal: AbortSignal }): Promise<{ messageId: string }>;
  close(): Promise<void>;
}
