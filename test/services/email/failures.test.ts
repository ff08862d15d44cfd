import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PaymentSucceeded } from '../../../src/contracts/payment-events.js';
import { EMAIL_GROUP } from '../../../src/services/email/index.js';
import { createTestSmtpServer, type TestSmtpServer } from '../../support/smtp.js';
import { waitFor } from '../../support/wait.js';
import { messageIdOf, payment, type RunningEmailService, refunded, startEmailService, succeeded } from './harness.js';

describe('email service when sending fails', () => {
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

  const retriesOf = (eventId: string) =>
    running?.logs.filter((line) => line.eventId === eventId && line.msg === 'attempt failed; will retry') ?? [];

  it('retries while the SMTP server is down, and once it is back every email arrives exactly once', async () => {
    running = await startEmailService({ smtpUrl: smtp.url, service: { maxAttempts: 100 } });
    await smtp.stop();
    const payments = [
      payment(),
      payment({ currency: 'jpy', amount: 500 }),
      payment({ customer_email: 'b@example.net' }),
    ];
    const receipts = payments.map((data) => succeeded(data));
    // Each payment's later event is handled only after its receipt settled: when all of them are
    // in, no receipt can still be on its way.
    const laters = payments.map((data) => refunded(data, { amount: 100, total: 100 }));
    await running.context.transport.publish([...receipts, ...laters]);

    await waitFor('every receipt failed twice', () => receipts.every((event) => retriesOf(event.id).length >= 2));
    expect(retriesOf(receipts[0]?.id ?? '')[0]?.error).toMatch(/SMTP send failed \(ESOCKET\).*ECONNREFUSED/);

    await smtp.start();
    await waitFor('every later email', () =>
      laters.every((event) => smtp.withMessageId(messageIdOf(event)).length > 0),
    );
    for (const event of [...receipts, ...laters]) {
      expect(smtp.withMessageId(messageIdOf(event)), `emails for ${event.type} ${event.id}`).toHaveLength(1);
    }
    expect(smtp.messages).toHaveLength(6);
  });

  it('moves the event to the email dead-letter queue, with the SMTP error, when the server stays down past maxAttempts', async () => {
    running = await startEmailService({ smtpUrl: smtp.url, service: { maxAttempts: 3 } });
    await smtp.stop();
    const event = succeeded(payment());
    await running.context.transport.publish(event);

    const { deadLetters } = running.context.transport;
    await waitFor('a dead letter', async () => (await deadLetters.count(EMAIL_GROUP)) === 1);
    const letter = await deadLetters.get(EMAIL_GROUP, event.id);
    expect(letter.attempts).toBe(3);
    expect(letter.reason).toMatch(/failed 3 attempts; last error: SMTP send failed \(ESOCKET\).*ECONNREFUSED/);
    expect(retriesOf(event.id)).toHaveLength(2);
    expect(
      running.logs.filter((line) => line.eventId === event.id && line.msg.includes('dead-letter queue')),
    ).toHaveLength(1);
  });

  it('retries a temporary refusal (451) and sends once the server takes mail again', async () => {
    running = await startEmailService({ smtpUrl: smtp.url, service: { maxAttempts: 100 } });
    smtp.refuse({ code: 451, message: 'Mailbox busy, try again later' });
    const event = succeeded(payment());
    await running.context.transport.publish(event);

    await waitFor('two refused attempts', () => smtp.refusedCount >= 2);
    expect(retriesOf(event.id)[0]?.error).toContain('451 Mailbox busy');
    smtp.refuse(null);
    await waitFor('the receipt', () => smtp.withMessageId(messageIdOf(event)).length === 1);
    expect(await running.context.transport.deadLetters.count(EMAIL_GROUP)).toBe(0);
  });

  it('dead-letters at once an email the server refuses for good (550): retrying would get the same answer', async () => {
    running = await startEmailService({ smtpUrl: smtp.url, service: { maxAttempts: 8 } });
    smtp.refuse({ code: 550, message: 'No such user here' });
    const event = succeeded(payment());
    await running.context.transport.publish(event);

    const { deadLetters } = running.context.transport;
    await waitFor('a dead letter', async () => (await deadLetters.count(EMAIL_GROUP)) === 1);
    const letter = await deadLetters.get(EMAIL_GROUP, event.id);
    expect(letter.attempts).toBe(1);
    expect(letter.reason).toContain('550 No such user here');
    expect(smtp.refusedCount).toBe(1);
  });

  it('aborts a send the server stalls past the attempt timeout, and retries it', async () => {
    running = await startEmailService({
      smtpUrl: smtp.url,
      service: { maxAttempts: 100, handlerTimeoutMs: 300, smtpTimeoutMs: 5_000 },
    });
    smtp.stall(true);
    const event = succeeded(payment());
    await running.context.transport.publish(event);

    await waitFor('a timed-out attempt', () => retriesOf(event.id).length >= 1);
    expect(retriesOf(event.id)[0]?.error).toContain('did not finish within 300 ms');
    smtp.stall(false);
    await waitFor('the receipt', () => smtp.withMessageId(messageIdOf(event)).length >= 1);
  });

  it('applies the fault knobs to every attempt: "down" fails handling until it is cleared', async () => {
    running = await startEmailService({ smtpUrl: smtp.url, service: { maxAttempts: 100 } });
    running.context.faults.set({ down: true });
    const event = succeeded(payment());
    await running.context.transport.publish(event);

    await waitFor('two failed attempts', () => retriesOf(event.id).length >= 2);
    expect(retriesOf(event.id)[0]?.error).toContain('injected fault in email (down)');
    expect(smtp.messages).toHaveLength(0);
    running.context.faults.set({});
    await waitFor('the receipt', () => smtp.withMessageId(messageIdOf(event)).length === 1);
  });
});

describe('email service lifecycle', () => {
  it('is ready once subscribed; stop() closes the subscription and the SMTP connections', async () => {
    const smtp = createTestSmtpServer();
    await smtp.start();
    const running = await startEmailService({ smtpUrl: smtp.url });
    const checks = running.service.readiness?.() ?? {};
    expect(checks.subscribed?.()).toBe(true);

    const event = succeeded(payment());
    await running.context.transport.publish(event);
    await waitFor('the receipt', () => smtp.withMessageId(messageIdOf(event)).length === 1);
    expect(smtp.openConnections).toBeGreaterThan(0);

    await running.service.stop?.(1_000);
    expect(checks.subscribed?.()).toBe(false);
    await waitFor('the pooled connection closed', () => smtp.openConnections === 0);

    // Nobody in the group consumes any more: the next consumer gets the event on its first attempt.
    const after = succeeded(payment());
    const attempts: number[] = [];
    await running.context.transport.subscribe({
      group: EMAIL_GROUP,
      events: [PaymentSucceeded],
      handler: (message) => {
        attempts.push(message.attempt);
      },
    });
    await running.context.transport.publish(after);
    await waitFor('the next consumer got the event', () => attempts.length === 1);
    expect(attempts).toEqual([1]);
    expect(smtp.withMessageId(messageIdOf(after))).toHaveLength(0);
    await running.context.close();
    await smtp.stop();
  });
});
