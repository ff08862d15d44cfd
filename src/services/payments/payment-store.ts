import type { SqlExecutor } from '@syncopate/messaging';
import type { Payment } from './schemas.js';

export const PAYMENTS_MIGRATIONS = [
  `CREATE TABLE payments (
     id               TEXT PRIMARY KEY,
     account_id       TEXT NOT NULL,
     status           TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
     amount           BIGINT NOT NULL,
     amount_refunded  BIGINT NOT NULL DEFAULT 0,
     currency         TEXT NOT NULL,
     description      TEXT,
     metadata         TEXT NOT NULL,
     customer_email   TEXT NOT NULL,
     card_brand       TEXT NOT NULL,
     card_last4       TEXT NOT NULL,
     gateway_key      TEXT NOT NULL,
     gateway_charge   TEXT,
     failure_code     TEXT,
     failure_message  TEXT,
     created_at       TEXT NOT NULL,
     updated_at       BIGINT NOT NULL
   );
   CREATE INDEX payments_by_account ON payments (account_id, id);
   CREATE INDEX payments_processing ON payments (updated_at) WHERE status = 'processing';
   CREATE TABLE payment_refunds (
     id          TEXT PRIMARY KEY,
     payment_id  TEXT NOT NULL REFERENCES payments (id),
     amount      BIGINT NOT NULL,
     created_at  TEXT NOT NULL
   );
   CREATE INDEX payment_refunds_by_payment ON payment_refunds (payment_id);
   CREATE TABLE idempotency_keys (
     account_id      TEXT NOT NULL,
     key             TEXT NOT NULL,
     request_hash    TEXT NOT NULL,
     state           TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
     resource_id     TEXT NOT NULL,
     response_status BIGINT,
     response_body   TEXT,
     locked_at       BIGINT NOT NULL,
     created_at      BIGINT NOT NULL,
     PRIMARY KEY (account_id, key)
   );
   CREATE TABLE payment_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  // The id of the event each outcome and refund published: where its side effects are looked up.
  'ALTER TABLE payments ADD COLUMN event_id TEXT',
  'ALTER TABLE payment_refunds ADD COLUMN event_id TEXT',
];

export interface PaymentRow {
  id: string;
  account_id: string;
  status: Payment['status'];
  amount: number;
  amount_refunded: number;
  currency: string;
  description: string | null;
  metadata: string;
  customer_email: string;
  card_brand: string;
  card_last4: string;
  gateway_key: string;
  gateway_charge: string | null;
  failure_code: string | null;
  failure_message: string | null;
  created_at: string;
  updated_at: number;
  /** The event of its outcome; null while processing. */
  event_id: string | null;
}

export interface RefundRow {
  id: string;
  payment_id: string;
  amount: number;
  created_at: string;
  event_id: string | null;
}

/** A payment's outcome; `brand` is the card brand as the gateway saw it (unknown when it never did). */
export type Settlement =
  | { status: 'succeeded'; chargeId: string; brand: string }
  | { status: 'failed'; chargeId: string | null; brand: string | null; failureCode: string; failureMessage: string };

/**
 * The payments table and its refunds: plain SQL over an executor, so each method runs inside
 * whatever transaction the caller holds.
 */
export const paymentStore = {
  insert(
    ex: SqlExecutor,
    row: Omit<
      PaymentRow,
      'status' | 'amount_refunded' | 'gateway_charge' | 'failure_code' | 'failure_message' | 'event_id'
    >,
  ) {
    return ex.run(
      `INSERT INTO payments (id, account_id, status, amount, currency, description, metadata, customer_email,
                             card_brand, card_last4, gateway_key, created_at, updated_at)
       VALUES (?, ?, 'processing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.account_id,
        row.amount,
        row.currency,
        row.description,
        row.metadata,
        row.customer_email,
        row.card_brand,
        row.card_last4,
        row.gateway_key,
        row.created_at,
        row.updated_at,
      ],
    );
  },

  get(ex: SqlExecutor, id: string): Promise<PaymentRow | undefined> {
    return ex.get<PaymentRow>('SELECT * FROM payments WHERE id = ?', [id]);
  },

  /** Newest first; `after` is the last id of the previous page. */
  list(ex: SqlExecutor, accountId: string, limit: number, after?: string): Promise<PaymentRow[]> {
    return after
      ? ex.all<PaymentRow>('SELECT * FROM payments WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?', [
          accountId,
          after,
          limit,
        ])
      : ex.all<PaymentRow>('SELECT * FROM payments WHERE account_id = ? ORDER BY id DESC LIMIT ?', [accountId, limit]);
  },

  /** Moves a processing payment to its outcome, published as event `eventId`: the settled row, or undefined if someone settled it first. */
  settle(ex: SqlExecutor, id: string, settlement: Settlement, eventId: string): Promise<PaymentRow | undefined> {
    const failed = settlement.status === 'failed' ? settlement : undefined;
    return ex.get<PaymentRow>(
      `UPDATE payments SET status = ?, gateway_charge = ?, card_brand = coalesce(?, card_brand),
                           failure_code = ?, failure_message = ?, updated_at = ?, event_id = ?
       WHERE id = ? AND status = 'processing'
       RETURNING *`,
      [
        settlement.status,
        settlement.chargeId,
        settlement.brand,
        failed?.failureCode ?? null,
        failed?.failureMessage ?? null,
        Date.now(),
        eventId,
        id,
      ],
    );
  },

  /** Removes a payment that never reached the gateway (nothing was charged). */
  discard(ex: SqlExecutor, id: string) {
    return ex.run("DELETE FROM payments WHERE id = ? AND status = 'processing'", [id]);
  },

  /** A payment with nothing refunded has no refund rows: its answer needs no query. */
  async refundsOf(ex: SqlExecutor, row: Pick<PaymentRow, 'id' | 'amount_refunded'>): Promise<RefundRow[]> {
    return Number(row.amount_refunded) === 0 ? [] : paymentStore.refunds(ex, row.id);
  },

  refunds(ex: SqlExecutor, paymentId: string): Promise<RefundRow[]> {
    return ex.all<RefundRow>('SELECT * FROM payment_refunds WHERE payment_id = ? ORDER BY created_at, id', [paymentId]);
  },

  /** Records a refund unless it would exceed what was captured; false then. */
  async addRefund(ex: SqlExecutor, refund: RefundRow): Promise<boolean> {
    const { changes } = await ex.run(
      'UPDATE payments SET amount_refunded = amount_refunded + ?, updated_at = ? WHERE id = ? AND amount_refunded + ? <= amount',
      [refund.amount, Date.now(), refund.payment_id, refund.amount],
    );
    if (changes === 0) return false;
    await ex.run('INSERT INTO payment_refunds (id, payment_id, amount, created_at, event_id) VALUES (?, ?, ?, ?, ?)', [
      refund.id,
      refund.payment_id,
      refund.amount,
      refund.created_at,
      refund.event_id,
    ]);
    return true;
  },

  /** Payments still processing since before `olderThan` (epoch ms): the reconciler's work list. */
  processingSince(ex: SqlExecutor, olderThan: number, limit: number): Promise<PaymentRow[]> {
    return ex.all<PaymentRow>(
      "SELECT * FROM payments WHERE status = 'processing' AND updated_at < ? ORDER BY updated_at LIMIT ?",
      [olderThan, limit],
    );
  },
};

export function toPayment(row: PaymentRow, refunds: readonly RefundRow[]): Payment {
  return {
    id: row.id,
    object: 'payment',
    status: row.status,
    amount: row.amount,
    amount_refunded: row.amount_refunded,
    currency: row.currency,
    description: row.description,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    customer: { email: row.customer_email },
    card: { brand: row.card_brand, last4: row.card_last4 },
    failure_code: row.failure_code,
    failure_message: row.failure_message,
    refunds: refunds.map((r) => ({
      id: r.id,
      object: 'refund',
      payment: r.payment_id,
      amount: r.amount,
      created: r.created_at,
    })),
    created: row.created_at,
  };
}
