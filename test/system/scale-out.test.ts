import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, type ClusterProcess, startCluster } from '../../src/app/cluster.js';
import { EMAIL_SERVICE_DEFAULTS } from '../../src/services/email/index.js';
import { sample, scrape } from '../support/metrics.js';
import { payMany, receiptsByCustomer } from '../support/pay-many.js';
import { createTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { systemTransports } from './transports.js';

const PAYMENTS = 2_000;
const CONCURRENCY = 16;

/** How many times each status came: what the failure shows when some were not 201. */
const countBy = (statuses: number[]) => {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
};

describe.each(await systemTransports())('scale-out on %s', (_name, transportUrl, databaseUrl) => {
  let smtp: TestSmtpServer;
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
    await smtp?.stop();
  });

  it('three email processes, one killed with SIGKILL and one added mid-run: every payment gets its receipt, none twice, and the added one does its share', async () => {
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
        // Payments answer 201 however slowly the gateway's process answers on a busy machine.
        GATEWAY_TIMEOUT_MS: '30000',
        LOG_LEVEL: 'error',
        API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
      },
      output: () => {},
    });
    const emailProcesses = cluster.processes.filter((p) => p.service === 'email');
    let killed = false;
    let added: ClusterProcess | undefined;
    const statuses = await payMany({
      url: cluster.url,
      apiKey: cluster.apiKey,
      count: PAYMENTS,
      concurrency: CONCURRENCY,
      keyPrefix: 'scale',
      onSent: () => {
        // With receipts flowing, one consumer dies without a word, and another is started. The load
        // waits for it to be up, so most of the payments are still to come when it joins.
        if (!killed && smtp.messages.length >= PAYMENTS / 6) {
          killed = true;
          emailProcesses[0]?.child.kill('SIGKILL');
          return cluster?.add('email').then((started) => {
            added = started;
          });
        }
      },
    });
    expect(killed).toBe(true);
    expect(await emailProcesses[0]?.exited).toBeNull();
    expect(countBy(statuses)).toEqual({ 201: PAYMENTS });

    const receiptsOf = () => receiptsByCustomer(smtp);
    await waitFor('a receipt for every payment', () => receiptsOf().size >= PAYMENTS, 300_000);
    const receipts = receiptsOf();
    const lost = Array.from({ length: PAYMENTS }, (_, n) => `customer-${n}@example.com`).filter(
      (to) => !receipts.has(to),
    );
    const duplicated = [...receipts.values()].filter((ids) => ids.size > 1);
    expect(lost).toEqual([]);
    expect(duplicated).toEqual([]);
    // Copies with the same Message-ID: the one window at-least-once leaves open, a receipt the SMTP
    // server took before its sender could record it; a mailbox keeps one. Each needs a cause: a send
    // in flight in the killed process, or an attempt that failed after the server may have taken it
    // (on a busy machine, a send that outlived its timeout). Counted by the surviving processes.
    const copies = smtp.messages.length - PAYMENTS;
    let failedAttempts = 0;
    for (const p of cluster.processes.filter((p) => p.service === 'email' && p !== emailProcesses[0])) {
      failedAttempts += sample(await scrape(p.url), 'syncopate_message_failed_attempts_total{group="email"}') ?? 0;
    }
    console.info(
      `scale-out: ${PAYMENTS} receipts, ${copies} same-Message-ID resend(s); ${failedAttempts} failed attempt(s)`,
    );
    expect(copies).toBeLessThanOrEqual(EMAIL_SERVICE_DEFAULTS.concurrency + failedAttempts);
    // The process added mid-run took its share: a consumer started later joins the group's work.
    const handledByAdded =
      sample(await scrape(added?.url ?? ''), 'syncopate_messages_handled_total{group="email"}') ?? 0;
    console.info(`scale-out: the email process added mid-run handled ${handledByAdded} receipt(s)`);
    expect(handledByAdded).toBeGreaterThan(0);
  }, 900_000);
});
