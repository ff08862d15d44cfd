import { Writable } from 'node:stream';
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

// The payment events the email service receives, as the payments service publishes them.
export {
  paymentFacts as payment,
  paymentFailed as failed,
  paymentRefunded as refunded,
  paymentSucceeded as succeeded,
} from '../../support/payment-events.js';

/** The Message-ID the service gives an event's email. */
export function messageIdOf(event: { id: string }): string {
  return `<${event.id}@syncopate.local>`;
}
