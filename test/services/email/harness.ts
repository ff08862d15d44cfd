import { Writable } from 'node:stream';
import { createEvent, type EventData, newEventId } from '@syncopate/messaging';
import { PaymentFailed, PaymentRefunded, PaymentSucceeded } from '../../../src/contracts/payment-events.js';
import { createLogger } from '../../../src/platform/logger.js';
import type { Service } from '../../../src/platform/service.js';
import { createEmailService, type EmailServiceOptionsInput, emailModule } from '../../../src/services/email/index.js';
import { createTestContext, type TestContext } from '../../support/service-context.js';

export type LogLine = Record<string, unknown> & { level: number; msg: string };

export interface RunningEmailService {
  context: TestContext;
  service: Service;
  /** Every line the service logged, parsed. */
  logs: LogLine[];
  stop(): Promise<void>;
}

/** Short waits between retries, so the tests take milliseconds where production takes seconds. */
export const FAST_RETRIES = { backoff: { initialDelayMs: 10, maxDelayMs: 50 } } as const;

/** The email service on a real SQLite transport in a temporary DATA_DIR, with its logs captured. */
export async function startEmailService(
  options: { smtpUrl?: string; service?: EmailServiceOptionsInput } = {},
): Promise<RunningEmailService> {
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', service: 'email', destination });
  const context = await createTestContext({
    topology: [emailModule],
    service: 'email',
    env: options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {},
    logger,
  });
  const service = await createEmailService({ ...context, logger }, { ...FAST_RETRIES, ...options.service });
  await service.start?.();
  return {
    context,
    service,
    logs,
    async stop() {
      await service.stop?.(1_000);
      await context.close();
    },
  };
}

type Payment = EventData<typeof PaymentSucceeded>;

export function payment(overrides: Partial<Payment> = {}): Payment {
  return {
    payment_id: `pay_${newEventId().slice(-12)}`,
    account_id: 'acct_test',
    amount: 1999,
    currency: 'usd',
    customer_email: 'ada@example.com',
    description: 'Concert ticket',
    card: { brand: 'visa', last4: '4242' },
    created_at: '2026-11-26T10:15:00.000Z',
    ...overrides,
  };
}

const source = 'urn:syncopate:payments';

export function succeeded(data: Payment) {
  return createEvent(PaymentSucceeded, data, { source, orderingKey: data.payment_id });
}

export function failed(data: Payment, failure = { code: 'card_declined', message: 'Your card was declined.' }) {
  return createEvent(
    PaymentFailed,
    { ...data, failure_code: failure.code, failure_message: failure.message },
    { source, orderingKey: data.payment_id },
  );
}

export function refunded(data: Payment, refund: { amount: number; total: number }) {
  return createEvent(
    PaymentRefunded,
    {
      ...data,
      refund: { id: `re_${newEventId().slice(-12)}`, amount: refund.amount, created_at: '2026-11-27T09:00:00.000Z' },
      amount_refunded: refund.total,
    },
    { source, orderingKey: data.payment_id },
  );
}

/** The Message-ID the service gives an event's email. */
export function messageIdOf(event: { id: string }): string {
  return `<${event.id}@syncopate.local>`;
}
