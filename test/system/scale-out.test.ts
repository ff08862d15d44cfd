import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../src/app/cluster.js';
import { EMAIL_SERVICE_DEFAULTS } from '../../src/services/email/index.js';
import { createTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { paymentBody } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { systemTransports } from './transports.js';

const PAYMENTS = 2_000;
const CONCURRENCY = 16;

/** Sends `count` payments, `concurrency` at a time, each to its own customer; resolves with the statuses. */
async function payMany(url: string, apiKey: string, count: number, onSent: (n: number) => void): Promise<number[]> {
  const agent = new Agent({ connections: CONCURRENCY });
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const response = await request(`${url}/v1/payments`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': `scale-${n}`,
        },
        body: JSON.stringify(paymentBody({ customer: { email: `customer-${n}@example.com` } })),
      });
      await response.body.dump();
      statuses[n] = response.statusCode;
      onSent(statuses.length);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await agent.close();
  return statuses;
}

describe.each(await systemTransports())('scale-out on %s', (_name, transportUrl, databaseUrl) => {
  let smtp: TestSmtpServer;
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
    await smtp?.stop();
  });

  it('three email processes, one killed with SIGKILL and one added mid-run: every payment gets its receipt, none twice', async () => {
    smtp = createTestSmtpServer();
    await smtp.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'syncopate-scale-'));
    cluster = await startCluster({
      port: 0,
      processes: { gateway: 1, payments: 1, email: 3 },
      env: {
        DATA_DIR: dataDir,
        TRANSPORT_URL: transportUrl(),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl() } : {}),
        SMTP_URL: smtp.url,
        LOG_LEVEL: 'error',
        API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
      },
      output: () => {},
    });
    const emailProcesses = cluster.processes.filter((p) => p.service === 'email');
    let killed = false;
    const statuses = await payMany(cluster.url, cluster.apiKey, PAYMENTS, () => {
      // A third of the way in, with receipts flowing, one consumer dies without a word.
      if (!killed && smtp.messages.length >= PAYMENTS / 6) {
        killed = true;
        emailProcesses[0]?.child.kill('SIGKILL');
        void cluster?.add('email');
      }
    });
    expect(killed).toBe(true);
    expect(await emailProcesses[0]?.exited).toBeNull();
    expect(statuses.filter((s) => s === 201)).toHaveLength(PAYMENTS);

    const receiptsOf = () => {
      const byCustomer = new Map<string, Set<string>>();
      for (const mail of smtp.messages) {
        const ids = byCustomer.get(mail.to ?? '') ?? new Set<string>();
        ids.add(mail.messageId ?? '');
        byCustomer.set(mail.to ?? '', ids);
      }
      return byCustomer;
    };
    await waitFor('a receipt for every payment', () => receiptsOf().size >= PAYMENTS, 90_000);
    const receipts = receiptsOf();
    const lost = Array.from({ length: PAYMENTS }, (_, n) => `customer-${n}@example.com`).filter(
      (to) => !receipts.has(to),
    );
    const duplicated = [...receipts.values()].filter((ids) => ids.size > 1);
    expect(lost).toEqual([]);
    expect(duplicated).toEqual([]);
    // Copies with the same Message-ID: the one window at-least-once leaves open (the consumer was
    // killed after the SMTP server accepted a receipt and before it recorded it); a mailbox keeps one.
    const copies = smtp.messages.length - PAYMENTS;
    console.info(`scale-out: ${PAYMENTS} receipts, ${copies} same-Message-ID resend(s) after the SIGKILL`);
    expect(copies).toBeLessThanOrEqual(8);
  }, 180_000);
});
