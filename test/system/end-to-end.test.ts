import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { verifySignature } from '../../src/services/notifications/index.js';
import { dropSchemas, requireServer } from '../support/availability.js';
import { createTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { paymentBody, startTestSystem, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let n = 0;
const key = () => `e2e-${process.pid}-${n++}`;

const pgAvailable = await requireServer('PostgreSQL', 5432);
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const PREFIX = `t_e2e_${randomBytes(4).toString('hex')}_`;
afterAll(async () => {
  if (pgAvailable) await dropSchemas(PG_URL, PREFIX);
});
const databases: [string, boolean, () => Record<string, string>][] = [
  ['SQLite files', true, () => ({})],
  [
    'PostgreSQL',
    pgAvailable,
    () => ({
      DATABASE_URL: `${PG_URL}?schema_prefix=${PREFIX}`,
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
        env: { SMTP_URL: smtp.url, WEBHOOK_ALLOW_LOCAL: 'true', ...env() },
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

        const summary = await waitFor('analytics to count it', async () => {
          const response = await t.api('GET', '/v1/analytics/summary');
          const usd = response.body.totals?.find((row: { currency: string }) => row.currency === 'usd');
          return usd?.succeeded_count >= 1 ? usd : undefined;
        });
        expect(summary.gross_amount).toBeGreaterThanOrEqual(4200);
      },
    );

    it.runIf(available)(
      'isolates a failing email server: payments still succeed, and every receipt arrives once it is back',
      async () => {
        await smtp.stop();
        const ids: string[] = [];
        for (let i = 0; i < 8; i++) {
          const paid = await t.api('POST', '/v1/payments', {
            body: paymentBody({ customer: { email: `outage-${i}@example.com` } }),
            idempotencyKey: key(),
          });
          expect(paid.status).toBe(201);
          ids.push(paid.body.id);
        }
        // The payments were all answered while no receipt could be sent...
        expect(smtp.messages.filter((m) => m.to?.startsWith('outage-'))).toHaveLength(0);
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
        await waitFor(
          'all eight receipts',
          () => smtp.messages.filter((m) => m.to?.startsWith('outage-')).length >= 8,
          30_000,
        );
        // A later payment's receipt arriving proves the queue has moved past any duplicate of the earlier ones.
        await t.api('POST', '/v1/payments', {
          body: paymentBody({ customer: { email: 'after@example.com' } }),
          idempotencyKey: key(),
        });
        await waitFor('the receipt after', () => smtp.messages.find((m) => m.to === 'after@example.com'), 30_000);
        const outage = smtp.messages.filter((m) => m.to?.startsWith('outage-'));
        expect(outage).toHaveLength(8);
        expect(new Set(outage.map((m) => m.messageId)).size).toBe(8);
      },
    );
  },
);
