import { errorMessage, PermanentError } from '@syncopate/messaging';
import nodemailer, { type NodemailerError } from 'nodemailer';
import type { Mailer } from './mailer.js';

/** A send the SMTP server did not accept (yet): thrown so the runtime retries it with backoff. */
export class SmtpSendError extends Error {
  readonly code = 'smtp_send_failed';
  constructor(cause: unknown) {
    const reason = (cause as NodemailerError).code;
    super(`SMTP send failed${reason ? ` (${reason})` : ''}: ${errorMessage(cause)}`, { cause });
    this.name = 'SmtpSendError';
  }
}

export interface SmtpMailerOptions {
  /** smtp:// or smtps:// URL, credentials included. */
  url: string;
  /** Bounds each step of a send: connecting, the greeting, and any stall of the socket. */
  timeoutMs: number;
  /** Connections kept open to the server; sends beyond it wait in the pool's queue. */
  maxConnections: number;
}

/** One pooled transporter for the whole service: connections are reused across emails. */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transporter = nodemailer.createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.maxConnections,
    // Our retries (with backoff, the sent_emails check and a dead-letter queue) must be the only
    // ones: the pool would otherwise resend, on its own, a message whose connection dropped
    // after the server may already have taken it.
    maxRequeues: 0,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    kind: 'smtp',
    async send(email, { signal }) {
      try {
        const info = await transporter.sendMail({
          from: email.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
          signal,
        });
        return { messageId: info.messageId };
      } catch (error) {
        // A 5xx reply (unknown mailbox, rejected content) would come back the same on every retry.
        if ((error as NodemailerError).permanent === true) {
          throw new PermanentError(`SMTP server refused the email for good: ${errorMessage(error)}`, { cause: error });
        }
        throw new SmtpSendError(error);
      }
    },
    async close() {
      transporter.close();
    },
  };
}
