import { join } from 'node:path';
import type { BackoffOptions, Handler, Subscription } from '@syncopate/messaging';
import { paymentEvents } from '../../contracts/payment-events.js';
import type { Service, ServiceContext } from '../../platform/service.js';
import { syncEffectRoutes } from '../../platform/sync-effects.js';
import { createEmailHandler } from './email-handler.js';
import { createEmlMailer } from './eml-mailer.js';
import type { Mailer } from './mailer.js';
import { EMAIL_MIGRATIONS, SentEmails } from './sent-emails.js';
import { createSmtpMailer } from './smtp-mailer.js';

export const EMAIL_GROUP = 'email';

export interface EmailServiceOptions {
  /** Deliveries of an event before it goes to the `email` dead-letter queue. */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Emails in flight at once; also the number of pooled SMTP connections. */
  concurrency: number;
  /** Bounds one whole attempt (injected latency included); the send is aborted past it. */
  handlerTimeoutMs: number;
  /** Bounds each SMTP step (connect, greeting, any socket stall). */
  smtpTimeoutMs: number;
}

export const EMAIL_SERVICE_DEFAULTS: EmailServiceOptions = {
  // With these, a failing event is retried for up to about a minute (full jitter: half that on
  // average) before it is dead-lettered, where it can be replayed once SMTP is back.
  maxAttempts: 8,
  backoff: { initialDelayMs: 500, maxDelayMs: 30_000 },
  concurrency: 4,
  // Above the SMTP step timeout, so a stalled step fails with its own error first.
  handlerTimeoutMs: 30_000,
  smtpTimeoutMs: 10_000,
};

export type EmailServiceOptionsInput = Partial<Omit<EmailServiceOptions, 'backoff'>> & {
  backoff?: Partial<BackoffOptions>;
};

/** The email service: receipts for payment events, over SMTP, or as .eml files when no SMTP_URL is set. */
export async function createEmailService(
  context: ServiceContext,
  options: EmailServiceOptionsInput = {},
): Promise<Service> {
  const { config } = context;
  const settings: EmailServiceOptions = {
    ...EMAIL_SERVICE_DEFAULTS,
    concurrency: config.EMAIL_CONCURRENCY,
    maxAttempts: config.EMAIL_MAX_ATTEMPTS,
    ...options,
    backoff: {
      ...EMAIL_SERVICE_DEFAULTS.backoff,
      maxDelayMs: config.EMAIL_RETRY_MAX_DELAY_MS,
      ...options.backoff,
    },
  };
  const { logger } = context;
  const sentEmails = new SentEmails(await context.database(EMAIL_MIGRATIONS));
  const mailer: Mailer = config.SMTP_URL
    ? createSmtpMailer({
        url: config.SMTP_URL,
        timeoutMs: settings.smtpTimeoutMs,
        maxConnections: settings.concurrency,
      })
    : createEmlMailer({ directory: join(config.dataDir, 'mail') });
  const handler = createEmailHandler({ faults: context.faults, sentEmails, mailer, from: config.EMAIL_FROM, logger });
  let subscription: Subscription | undefined;

  return {
    name: 'email',
    ...syncEffectRoutes(context, {
      service: 'email',
      groups: [{ group: EMAIL_GROUP, events: paymentEvents, handler: handler as Handler }],
      concurrency: settings.concurrency,
      handlerTimeoutMs: settings.handlerTimeoutMs,
    }),
    async start() {
      if (subscription) return;
      subscription = await context.transport.subscribe({
        group: EMAIL_GROUP,
        events: paymentEvents,
        handler,
        maxAttempts: settings.maxAttempts,
        backoff: settings.backoff,
        concurrency: settings.concurrency,
        handlerTimeoutMs: settings.handlerTimeoutMs,
        leaseMs: context.config.EMAIL_LEASE_MS,
      });
      logger.info({ mailer: mailer.kind, group: EMAIL_GROUP }, 'email service consuming payment events');
    },
    async stop(deadlineMs) {
      const closing = subscription;
      subscription = undefined;
      // In-flight sends finish (or are aborted at the deadline) before the pool under them closes.
      await closing?.close({ deadlineMs });
      await mailer.close();
    },
    readiness: () => ({ subscribed: () => subscription !== undefined }),
  };
}
