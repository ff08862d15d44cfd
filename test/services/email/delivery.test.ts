import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSmtpServer, parseMail, type TestSmtpServer } from '../../support/smtp.js';
import { waitFor } from '../../support/wait.js';
import {
  failed,
  messageIdOf,
  payment,
  type RunningEmailService,
  refunded,
  startEmailService,
  succeeded,
} from './harness.js';

describe('email service: one email per payment event', () => {
  let smtp: TestSmtpServer;
  let running: RunningEmailService | undefined;

  beforeEach(async () => {
    smtp = createTestSmtpServer();
    await smtp.start();
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await smtp.stop();
  });

  it('sends one receipt for a succeeded payment, to the customer, with its amount and only the card brand and last 4', async () => {
    running = await startEmailService({ smtpUrl: smtp.url });
    const data = payment({ amount: 1999, currency: 'usd', customer_email: 'ada@example.com' });
    const receipt = succeeded(data);
    // A later event of the same payment is handled only after the receipt settled (per-key order):
    // once it has arrived, a second copy of the receipt would have arrived too.
    const later = refunded(data, { amount: 500, total: 500 });
    await running.context.transport.publish([receipt, later]);

    await waitFor('the later email', () => smtp.withMessageId(messageIdOf(later)).length === 1);
    const copies = smtp.withMessageId(messageIdOf(receipt));
    expect(copies).toHaveLength(1);
    const mail = copies[0];
    expect(mail?.recipients).toEqual(['ada@example.com']);
    expect(mail?.to).toBe('ada@example.com');
    expect(mail?.from).toBe('Syncopate Receipts <receipts@syncopate.local>');
    expect(mail?.subject).toBe('Receipt for your payment of 19.99 USD');
    expect(mail?.text).toContain('19.99 USD');
    expect(mail?.text).toContain('Visa •••• 4242');
    expect(mail?.html).toContain('19.99 USD');
    expect(mail?.html).toContain('Visa •••• 4242');
    expect(mail?.text).toContain(data.payment_id);

    const sent = running.logs.filter((line) => line.msg === 'email sent' && line.eventId === receipt.id);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ paymentId: data.payment_id, recipientDomain: 'example.com', mailer: 'smtp' });
    expect(JSON.stringify(sent[0])).not.toContain('ada@');
    expect(JSON.stringify(sent[0])).not.toContain('4242');
  });

  it('formats zero-decimal currencies without decimals: 1999 JPY is "1,999 JPY"', async () => {
    running = await startEmailService({ smtpUrl: smtp.url });
    const event = succeeded(payment({ amount: 1999, currency: 'jpy' }));
    await running.context.transport.publish(event);

    const mail = await waitFor('the receipt', () => smtp.withMessageId(messageIdOf(event))[0]);
    expect(mail?.subject).toBe('Receipt for your payment of 1,999 JPY');
    expect(mail?.text).toContain('1,999 JPY');
    expect(mail?.text).not.toContain('19.99');
  });

  it('sends one email for a redelivered event: the same envelope published twice', async () => {
    running = await startEmailService({ smtpUrl: smtp.url });
    const data = payment();
    const receipt = succeeded(data);
    const later = refunded(data, { amount: 1999, total: 1999 });
    await running.context.transport.publish([receipt, receipt, later]);

    await waitFor('the later email', () => smtp.withMessageId(messageIdOf(later)).length === 1);
    expect(smtp.withMessageId(messageIdOf(receipt))).toHaveLength(1);
    expect(
      running.logs.filter((line) => line.eventId === receipt.id && line.msg.includes('redelivery skipped')),
    ).toHaveLength(1);
  });

  it('tells the customer a payment failed, with the reason, and a refund with the amount and the total refunded', async () => {
    running = await startEmailService({ smtpUrl: smtp.url });
    const declined = failed(payment({ amount: 4200, currency: 'eur' }), {
      code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    });
    const data = payment({ amount: 10_000, currency: 'gbp' });
    const refund = refunded(data, { amount: 2_500, total: 4_000 });
    await running.context.transport.publish([declined, refund]);

    const failure = await waitFor('the failure email', () => smtp.withMessageId(messageIdOf(declined))[0]);
    expect(failure?.subject).toBe('Your payment of 42.00 EUR failed');
    expect(failure?.text).toContain('Your card has insufficient funds.');
    expect(failure?.text).toContain('No money was taken');

    const refundMail = await waitFor('the refund email', () => smtp.withMessageId(messageIdOf(refund))[0]);
    expect(refundMail?.subject).toBe('Your refund of 25.00 GBP');
    expect(refundMail?.text).toMatch(/Total refunded:\s+40\.00 GBP of 100\.00 GBP/);
  });

  it('escapes HTML in the description: a <script> in it never becomes markup', async () => {
    running = await startEmailService({ smtpUrl: smtp.url });
    const description = '<script>alert("owned")</script> & <b>bold</b>';
    const event = succeeded(payment({ description }));
    await running.context.transport.publish(event);

    const mail = await waitFor('the receipt', () => smtp.withMessageId(messageIdOf(event))[0]);
    expect(mail?.html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(mail?.html).not.toMatch(/<script/i);
    expect(mail?.html).not.toContain('<b>');
    // Plain text has no markup to inject into: the customer's words stay as they typed them.
    expect(mail?.text).toContain(description);
  });
});

describe('email service without SMTP_URL', () => {
  let running: RunningEmailService | undefined;

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('writes one .eml file per event under DATA_DIR/mail, named by the event id, also for a redelivered event', async () => {
    running = await startEmailService();
    const first = payment({ customer_email: 'grace@example.org' });
    const receipt = succeeded(first);
    const later = refunded(first, { amount: 100, total: 100 });
    const other = succeeded(payment({ amount: 500, currency: 'chf' }));
    await running.context.transport.publish([receipt, receipt, other, later]);

    const mailDir = join(running.context.config.dataDir, 'mail');
    const logged = (msg: string) => running?.logs.filter((line) => line.msg.includes(msg)) ?? [];
    await waitFor('three emails written', () => logged('email sent').length >= 3);
    await waitFor('the redelivered receipt handled', () =>
      logged('redelivery skipped').some((line) => line.eventId === receipt.id),
    );
    expect(readdirSync(mailDir).sort()).toEqual([receipt, later, other].map((e) => `${e.id}.eml`).sort());
    expect(logged('email sent').filter((line) => line.mailer === 'eml')).toHaveLength(3);

    const mail = parseMail(readFileSync(join(mailDir, `${receipt.id}.eml`), 'utf8'));
    expect(mail.messageId).toBe(messageIdOf(receipt));
    expect(mail.to).toBe('grace@example.org');
    expect(mail.subject).toBe('Receipt for your payment of 19.99 USD');
    expect(mail.html).toContain('19.99 USD');
  });
});
