import { Agent, request } from 'undici';
import type { TestSmtpServer } from './smtp.js';
import { paymentBody } from './system.js';

/**
 * Sends `count` real payments, `concurrency` at a time, each to its own customer
 * (`customer-<n>@example.com`); `onSent` sees the running total and each answer's status as it
 * comes. When `onSent` returns a promise, no payment is sent until it settles (the ones in flight
 * are answered meanwhile): a test can act between two parts of the load. Resolves with each status.
 */
export async function payMany(options: {
  url: string;
  apiKey: string;
  count: number;
  concurrency: number;
  keyPrefix?: string;
  onSent?: (sent: number, status: number) => void | Promise<void>;
}): Promise<number[]> {
  const agent = new Agent({ connections: options.concurrency });
  const statuses: number[] = [];
  let next = 0;
  let sent = 0;
  let paused: Promise<void> | undefined;
  const worker = async () => {
    for (;;) {
      while (paused) await paused;
      if (next >= options.count) break;
      const n = next++;
      const response = await request(`${options.url}/v1/payments`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': `${options.keyPrefix ?? 'pay'}-${n}`,
        },
        body: JSON.stringify(paymentBody({ customer: { email: `customer-${n}@example.com` } })),
      });
      await response.body.dump();
      statuses[n] = response.statusCode;
      const pause = options.onSent?.(++sent, response.statusCode);
      if (pause) {
        const settled: Promise<void> = pause.finally(() => {
          if (paused === settled) paused = undefined;
        });
        paused = settled;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    await agent.close();
  }
  return statuses;
}

/** The Message-IDs each customer received: one per customer means every receipt arrived once. */
export function receiptsByCustomer(smtp: TestSmtpServer): Map<string, Set<string>> {
  const byCustomer = new Map<string, Set<string>>();
  for (const mail of smtp.messages) {
    const ids = byCustomer.get(mail.to ?? '') ?? new Set<string>();
    ids.add(mail.messageId ?? '');
    byCustomer.set(mail.to ?? '', ids);
  }
  return byCustomer;
}
