import { createEvent, type EventData, newEventId } from '@syncopate/messaging';
import { PaymentFailed, PaymentRefunded, PaymentSucceeded } from '../../src/contracts/payment-events.js';

/** What every payment event carries about its payment. */
export type PaymentFacts = EventData<typeof PaymentSucceeded>;

/** A payment's facts, with a fresh payment id; override what a test is about. */
export function paymentFacts(overrides: Partial<PaymentFacts> = {}): PaymentFacts {
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

/** As the payments service publishes them: ordered by payment. */
const published = (facts: PaymentFacts) => ({ source: 'urn:syncopate:payments', orderingKey: facts.payment_id });

export function paymentSucceeded(facts: PaymentFacts) {
  return createEvent(PaymentSucceeded, facts, published(facts));
}

export function paymentFailed(
  facts: PaymentFacts,
  failure: { code: string; message: string } = { code: 'card_declined', message: 'Your card was declined.' },
) {
  return createEvent(
    PaymentFailed,
    { ...facts, failure_code: failure.code, failure_message: failure.message },
    published(facts),
  );
}

/** A refund of `amount`; `total` is all that is refunded of the payment with it (default: this refund). */
export function paymentRefunded(facts: PaymentFacts, refund: { amount: number; total?: number; createdAt?: string }) {
  return createEvent(
    PaymentRefunded,
    {
      ...facts,
      refund: {
        id: `re_${newEventId().slice(-12)}`,
        amount: refund.amount,
        created_at: refund.createdAt ?? '2026-11-27T09:00:00.000Z',
      },
      amount_refunded: refund.total ?? refund.amount,
    },
    published(facts),
  );
}
