import type { EventOf, Handler, Inbox, Subscription, Transport } from '@syncopate/messaging';
import { type PaymentEventType, paymentEvents } from '../../contracts/payment-events.js';
import type { Faults } from '../../platform/faults.js';
import type { CounterDelta, CounterStore } from './counter-store.js';

export const ANALYTICS_GROUP = 'analytics';

/** A refund counts when it happened, not when its payment did: the refund's own timestamp. */
export function deltaOf(event: EventOf<PaymentEventType>): CounterDelta {
  const { account_id: accountId, currency, amount } = event.data;
  const none = { succeeded: 0, failed: 0, gross: 0, refunded: 0 };
  switch (event.type) {
    case 'payment.succeeded':
      return { ...none, accountId, currency, atMs: Date.parse(event.data.created_at), succeeded: 1, gross: amount };
    case 'payment.failed':
      return { ...none, accountId, currency, atMs: Date.parse(event.data.created_at), failed: 1 };
    case 'payment.refunded':
      return {
        ...none,
        accountId,
        currency,
        atMs: Date.parse(event.data.refund.created_at),
        refunded: event.data.refund.amount,
      };
  }
}

export interface PaymentCounterOptions {
  transport: Pick<Transport, 'subscribe'>;
  inbox: Inbox;
  counters: CounterStore;
  faults: Pick<Faults, 'disturb'>;
}

/** Counts each payment event exactly once: the inbox record and the counter updates commit together. */
export function paymentCounterHandler(
  options: Omit<PaymentCounterOptions, 'transport'>,
): Handler<EventOf<PaymentEventType>> {
  return async (message) => {
    await options.faults.disturb(message);
    await options.inbox.once(message, (tx) => options.counters.apply(tx, deltaOf(message.event)));
  };
}

export function subscribePaymentCounter(options: PaymentCounterOptions): Promise<Subscription> {
  return options.transport.subscribe({
    group: ANALYTICS_GROUP,
    events: paymentEvents,
    handler: paymentCounterHandler(options),
  });
}
