import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { verifySignature } from '../../src/services/notifications/index.js';
import { requireServer } from '../support/availability.js';
import { dropSchemas, POSTGRES_PORT, postgresTestUrl } from '../support/postgres.js';
import { createTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { paymentBody, startTestSystem, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let n = 0;
const key = () => `e2e-${process.pid}-${n++}`;

const pgAvailable = await requireServer('PostgreSQL', POSTGRES_PORT);
const PREFIX = `t_e2e_${randomBytes(4).toString('hex')}_`;
afterAll(async () => {
  if (pgAvailable) await dropSchemas({ prefix: PREFIX });
});
const databases: [string, boolean, () => Record<string, string>][] = [
  ['SQLite files', true, () => ({})],
  [
    'PostgreSQL',
    pgAvailable,
    () => ({
      DATABASE_URL: postgresTestUrl(`schema_prefix=${PREFIX}`),
    }),
  ],
];

describe.each(databases)(
  'the whole system on %s: pay synchronously, side effects asynchronously',
  (_name, available, env) => {
    let t: TestSystem;
    let smtp: TestSmtpServer;
    let merchant: WebhookReceiver;
    let webhookSecret: string;

    beforeAll(async () => {
      if (!available) return;
      smtp = createTestSmtpServer();
      await smtp.start();
      merchant = await startWebhookReceiver();
      // The merchant's receiver is on this machine: WEBHOOK_ALLOW_LOCAL's development setting.
      t = await startTestSystem({
        modules: ALL_MODULES,
        // However long the outage lasts on a busy machine, receipts are retried within a second of
        // the server's return, and none gives up meanwhile.
        env: {
          SMTP_URL: smtp.url,
          EMAIL_RETRY_MAX_DELAY_MS: '1000',
          EMAIL_MAX_ATTEMPTS: '100',
          WEBHOOK_ALLOW_LOCAL: 'true',
          ...env(),
        },
      });
      const endpoint = await t.api('POST', '/v1/webhook_endpoints', {
        body: { url: merchant.url, enabled_events: ['payment.succeeded'] },
      });
      expect(endpoint.status).toBe(201);
      webhookSecret = endpoint.body.secret;
    });
    afterAll(async () => {
      await t?.stop();
      await smtp?.stop();
      await merchant?.close();
    });

    it.runIf(available)(
      'confirms the payment, then the receipt arrives by SMTP, the webhook is signed and analytics moves',
      async () => {
        const paid = await t.api('POST', '/v1/payments', {
          body: paymentBody({ amount: 4200, customer: { email: 'grace@example.com' } }),
          idempotencyKey: key(),
        });
        expect(paid.status).toBe(201);
        const id: string = paid.body.id;

        const mail = await waitFor('the receipt', () => smtp.messages.find((m) => m.to?.includes('grace@example.com')));
        expect(mail.subject).toContain('42.00 USD');
        expect(mail.text).toContain('4242');
        expect(mail.raw).not.toContain('4242424242424242');

        const hook = await waitFor('the webhook', () => merchant.requests.find((r) => r.body.includes(id)));
        const verdict = verifySignature({
          header: String(hook.headers['syncopate-signature']),
          body: hook.body,
          secret: webhookSecret,
          toleranceSeconds: 300,
        });
        expect(verdict.valid).toBe(true);
        expect(JSON.parse(hook.body)).toMatchObject({
          type: 'payment.succeeded',
          data: { object: { payment_id: id } },
        });

        // A refund of the payment is counted after its payment.succeeded (one ordering key): once
        // the refund shows, the payment has been counted, and a second count would show too.
        const refund = await t.api('POST', `/v1/payments/${id}/refunds`, {
          body: { amount: 200 },
          idempotencyKey: key(),
        });
        expect(refund.status).toBe(201);
        const summary = await waitFor('analytics to count the payment and its refund', async () => {
          const response = await t.api('GET', '/v1/analytics/summary');
          const usd = response.body.totals?.find((row: { currency: string }) => row.currency === 'usd');
          return usd?.refunded_amount > 0 ? usd : undefined;
        });
        // This system's first payment: the figures are exactly its own.
        expect(summary).toMatchObject({
          succeeded_count: 1,
          failed_count: 0,
          gross_amount: 4200,
          refunded_amount: 200,
          net_amount: 4000,
        });
      },
    );

    it.runIf(available)(
      'isolates a failing email server: payments still succeed, and every receipt arrives once it is back',
      async () => {
        await smtp.stop();
        const ids: string[] = [];
        // Every payment is answered while no receipt can be sent...
        for (let i = 0; i < 8; i++) {
          const paid = await t.api('POST', '/v1/payments', {
            body: paymentBody({ customer: { email: `outage-${i}@example.com` } }),
            idempotencyKey: key(),
          });
          expect(paid.status).toBe(201);
          ids.push(paid.body.id);
        }
        // ...and the email consumer is retrying them, not ignoring them.
        const queue = new Database(join(t.dataDir, 'syncopate.db'), { readonly: true });
        await waitFor('the email group to retry', () =>
          queue
            .prepare("SELECT count(*) FROM syncopate_deliveries WHERE grp = 'email' AND last_error IS NOT NULL")
            .pluck()
            .get(),
        );
        queue.close();
        await smtp.start();
        // Each payment's refund is handled after its receipt settled (one ordering key): once every
        // refund's email is in, no receipt, and no second copy of one, can still be on its way.
        for (const id of ids) {
          const refund = await t.api('POST', `/v1/payments/${id}/refunds`, {
            body: { amount: 1 },
            idempotencyKey: key(),
          });
          expect(refund.status).toBe(201);
        }
        const outage = (subject: string) =>
          smtp.messages.filter((m) => m.to?.startsWith('outage-') && m.subject?.startsWith(subject));
        await waitFor(
          'the refund email of each of the eight',
          () => new Set(outage('Your refund').map((m) => m.to)).size === 8,
          30_000,
        );
        const receipts = outage('Receipt');
        expect(receipts).toHaveLength(8);
        expect(new Set(receipts.map((m) => m.to)).size).toBe(8);
        expect(new Set(receipts.map((m) => m.messageId)).size).toBe(8);
      },
    );
  },
);
