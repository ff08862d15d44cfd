import { z } from 'zod';
import { SUPPORTED_CURRENCIES } from '../../contracts/currencies.js';

/** The limits of the payments API, written once; the OpenAPI document shows them too. */
export const LIMITS = {
  maxAmount: 99_999_999,
  descriptionLength: 500,
  metadataKeys: 20,
  metadataKeyLength: 40,
  metadataValueLength: 500,
  idempotencyKeyLength: 255,
  pageSize: { default: 10, max: 100 },
  bodyBytes: 16 * 1024,
} as const;

export const idempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string({ error: 'is required on every POST: send a unique key per payment attempt' })
    .min(1)
    .max(LIMITS.idempotencyKeyLength)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
});

const amountSchema = z
  .number()
  .int('must be an integer amount in the minor unit (cents)')
  .positive()
  .max(LIMITS.maxAmount);

export const createPaymentSchema = z
  .strictObject({
    amount: amountSchema.describe('In the minor unit of the currency: 1999 is 19.99 USD, 1999 JPY is ¥1,999.'),
    currency: z.enum(SUPPORTED_CURRENCIES, { error: `must be one of ${SUPPORTED_CURRENCIES.join(', ')}` }),
    card: z.strictObject({
      number: z.string().regex(/^\d{12,19}$/, 'must be 12 to 19 digits, without spaces'),
      exp_month: z.number().int().min(1).max(12),
      exp_year: z.number().int().min(2000).max(2100),
      cvc: z.string().regex(/^\d{3,4}$/, 'must be 3 or 4 digits'),
    }),
    customer: z.strictObject({ email: z.email().max(254) }),
    description: z.string().max(LIMITS.descriptionLength).optional(),
    metadata: z
      .record(z.string().min(1).max(LIMITS.metadataKeyLength), z.string().max(LIMITS.metadataValueLength))
      .refine((m) => Object.keys(m).length <= LIMITS.metadataKeys, `at most ${LIMITS.metadataKeys} keys`)
      .optional(),
  })
  .meta({ id: 'CreatePayment' });

export type CreatePayment = z.infer<typeof createPaymentSchema>;

export const refundRequestSchema = z
  .strictObject({ amount: amountSchema.optional().describe('Defaults to what is left to refund.') })
  .meta({ id: 'CreateRefund' });

export const refundSchema = z
  .object({
    id: z.string(),
    object: z.literal('refund'),
    payment: z.string(),
    amount: z.number().int(),
    created: z.string(),
  })
  .meta({ id: 'Refund' });

export const paymentSchema = z
  .object({
    id: z.string(),
    object: z.literal('payment'),
    status: z.enum(['processing', 'succeeded', 'failed']),
    amount: z.number().int(),
    amount_refunded: z.number().int(),
    currency: z.string(),
    description: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    customer: z.object({ email: z.string() }),
    card: z.object({ brand: z.string(), last4: z.string() }),
    failure_code: z.string().nullable(),
    failure_message: z.string().nullable(),
    refunds: z.array(refundSchema),
    created: z.string(),
  })
  .meta({ id: 'Payment' });

export type Payment = z.infer<typeof paymentSchema>;

export const declinedSchema = z
  .object({
    error: z.object({ type: z.literal('card_error'), code: z.string(), message: z.string() }),
    payment: paymentSchema,
  })
  .meta({ id: 'Declined' });

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSize.max).default(LIMITS.pageSize.default),
  starting_after: z
    .string()
    .regex(/^pay_[0-9a-f]{32}$/, 'must be a payment id')
    .optional(),
});

export const paymentListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(paymentSchema),
    has_more: z.boolean(),
  })
  .meta({ id: 'PaymentList' });

export const paymentIdParams = z.object({ id: z.string().min(1).max(64) });

export const sideEffectSchema = z
  .object({
    object: z.literal('side_effect'),
    event_id: z.string(),
    event_type: z.string(),
    group: z.string().describe('The consumer group doing this side effect (email, analytics, notifications, reports).'),
    state: z
      .enum(['pending', 'delivered', 'retrying', 'dead_lettered', 'purged'])
      .describe(
        'pending: published, not yet handled (or replayed from the dead-letter queue); purged: removed from it.',
      ),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    next_attempt_at: z.iso.datetime().nullable(),
    updated_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'SideEffect' });

export const sideEffectListSchema = z
  .object({ object: z.literal('list'), data: z.array(sideEffectSchema) })
  .meta({ id: 'SideEffectList' });
export type SideEffectView = z.infer<typeof sideEffectSchema>;
