import type { EventOf, Handler, Inbox, Subscription, Transport } from '@syncopate/messaging';
import { type PaymentEventType, paymentEvents } from '../../contracts/payment-events.js';
import type { Faults } from '../../platform/faults.js';
import type { LedgerEntry, LedgerStore } from './ledger-store.js';

export const LEDGER_GROUP = 'reports-ledger';

export function entryOf(event: EventOf<PaymentEventType>): LedgerEntry {
  const { data } = event;
  return {
    account_id: data.account_id,
    payment_id: data.payment_id,
    // Only a captured payment can be refunded.
    status: event.type === 'payment.failed' ? 'failed' : 'succeeded',
    amount: data.amount,
    currency: data.currency,
    amount_refunded: event.type === 'payment.refunded' ? event.data.amount_refunded : 0,
    customer_email: data.customer_email,
    description: data.description,
    created_at: data.created_at,
  };
}

export interface LedgerConsumerOptions {
  transport: Pick<Transport, 'subscribe'>;
  inbox: Inbox;
  ledger: LedgerStore;
  faults: Pick<Faults, 'disturb'>;
}

/** Keeps the read model from the payment events; the inbox record and the row commit together. */
export function ledgerHandler(options: Omit<LedgerConsumerOptions, 'transport'>): Handler<EventOf<PaymentEventType>> {
  return async (message) => {
    await options.faults.disturb(message);
    await options.inbox.once(message, (tx) => options.ledger.record(tx, entryOf(message.event)));
  };
}

export function subscribeLedger(options: LedgerConsumerOptions): Promise<Subscription> {
  return options.transport.subscribe({ group: LEDGER_GROUP, events: paymentEvents, handler: ledgerHandler(options) });
}
