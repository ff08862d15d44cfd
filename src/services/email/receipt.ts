import type { EventOf } from '@syncopate/messaging';
import { formatAmount } from '../../contracts/currencies.js';
import type { PaymentEventType } from '../../contracts/payment-events.js';

export type PaymentEvent = EventOf<PaymentEventType>;

/** What an email says, before it is laid out as text or HTML: the one place the wording lives. */
export interface Receipt {
  subject: string;
  heading: string;
  intro: string;
  details: ReadonlyArray<readonly [label: string, value: string]>;
  outro: string;
}

const BRANDS: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
};

/** Brand and last 4 only: enough for the customer to recognise the card, useless to anyone else. */
export function cardLabel(card: { brand: string; last4: string }): string {
  return `${brandName(card.brand)} •••• ${card.last4}`;
}

function brandName(brand: string): string {
  const known = BRANDS[brand.toLowerCase()];
  if (known) return known;
  return brand.length > 0 ? brand.charAt(0).toUpperCase() + brand.slice(1) : 'Card';
}

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'UTC',
});

function formatDate(iso: string): string {
  return `${dateFormat.format(new Date(iso))} UTC`;
}

export function receiptFor(event: PaymentEvent): Receipt {
  const payment = event.data;
  const amount = formatAmount(payment.amount, payment.currency);
  const card = cardLabel(payment.card);
  const description: Array<readonly [string, string]> = payment.description
    ? [['Description', payment.description]]
    : [];
  switch (event.type) {
    case 'payment.succeeded':
      return {
        subject: `Receipt for your payment of ${amount}`,
        heading: 'Payment received',
        intro: `Thank you. Your payment of ${amount} was successful.`,
        details: [
          ['Amount paid', amount],
          ...description,
          ['Card', card],
          ['Date', formatDate(payment.created_at)],
          ['Payment ID', payment.payment_id],
        ],
        outro:
          'Keep this email for your records. If you do not recognise this payment, contact us quoting the payment ID.',
      };
    case 'payment.failed': {
      const failure = event.data.failure_message;
      return {
        subject: `Your payment of ${amount} failed`,
        heading: 'Payment failed',
        intro: `We could not take your payment of ${amount}: ${failure}`,
        details: [
          ['Amount', amount],
          ...description,
          ['Card', card],
          ['Reason', failure],
          ['Date', formatDate(payment.created_at)],
          ['Payment ID', payment.payment_id],
        ],
        outro: 'No money was taken. You can try again, with the same card or another one.',
      };
    }
    case 'payment.refunded': {
      const { refund, amount_refunded } = event.data;
      const refunded = formatAmount(refund.amount, payment.currency);
      return {
        subject: `Your refund of ${refunded}`,
        heading: 'Refund issued',
        intro: `We refunded ${refunded} to your card ${card}.`,
        details: [
          ['Refund', refunded],
          ['Total refunded', `${formatAmount(amount_refunded, payment.currency)} of ${amount}`],
          ...description,
          ['Card', card],
          ['Refund date', formatDate(refund.created_at)],
          ['Refund ID', refund.id],
          ['Payment ID', payment.payment_id],
        ],
        outro: 'A refund usually reaches your account within 5 to 10 business days.',
      };
    }
  }
}
