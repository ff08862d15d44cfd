import { defineEvent } from '@syncopate/messaging';
import { z } from 'zod';

/**
 * The events the payments service publishes: the published language between payments and its
 * consumers. Consumers depend on these declarations, never on the payments service itself.
 */
const paymentFacts = {
  payment_id: z.string(),
  account_id: z.string(),
  amount: z.number().int().positive(),
  currency: z.string().length(3),
  customer_email: z.email(),
  description: z.string().nullable(),
  card: z.object({ brand: z.string(), last4: z.string().length(4) }),
  created_at: z.iso.datetime(),
};

export const PaymentSucceeded = defineEvent({
  type: 'payment.succeeded',
  version: 1,
  description: 'A charge was authorized and captured; the customer was told so in the response.',
  schema: z.object({ ...paymentFacts }),
});

export const PaymentFailed = defineEvent({
  type: 'payment.failed',
  version: 1,
  description: 'The gateway declined the charge; nothing was captured.',
  schema: z.object({ ...paymentFacts, failure_code: z.string(), failure_message: z.string() }),
});

export const PaymentRefunded = defineEvent({
  type: 'payment.refunded',
  version: 1,
  description: 'Part or all of a captured payment was given back.',
  schema: z.object({
    ...paymentFacts,
    refund: z.object({ id: z.string(), amount: z.number().int().positive(), created_at: z.iso.datetime() }),
    amount_refunded: z.number().int().nonnegative(),
  }),
});

export const paymentEvents = [PaymentSucceeded, PaymentFailed, PaymentRefunded] as const;

export type PaymentEventType = (typeof paymentEvents)[number];
