import type { Database, Statement } from 'better-sqlite3';
import type { Payment } from './schemas.js';

export const PAYMENTS_MIGRATIONS = [
  `CREATE TABLE payments (
     id               TEXT PRIMARY KEY,
     account_id       TEXT NOT NULL,
     status           TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
     amount           INTEGER NOT NULL,
     amount_refunded  INTEGER NOT NULL DEFAULT 0,
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
     updated_at       INTEGER NOT NULL
   );
   CREATE INDEX payments_by_account ON payments (account_id, id);
   CREATE INDEX payments_processing ON payments (updated_at) WHERE status = 'processing';
   CREATE TABLE payment_refunds (
     id          TEXT PRIMARY KEY,
     payment_id  TEXT NOT NULL REFERENCES payments (id),
     amount      INTEGER NOT NULL,
     created_at  TEXT NOT NULL
   );
   CREATE INDEX payment_refunds_by_payment ON payment_refunds (payment_id);
   CREATE TABLE idempotency_keys (
     account_id      TEXT NOT NULL,
     key             TEXT NOT NULL,
     request_hash    TEXT NOT NULL,
     state           TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
     resource_id     TEXT NOT NULL,
     response_status INTEGER,
     response_body   TEXT,
     locked_at       INTEGER NOT NULL,
     created_at      INTEGER NOT NULL,
     PRIMARY KEY (account_id, key)
   ) WITHOUT ROWID;
   CREATE TABLE payment_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
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
}

export interface RefundRow {
  id: string;
  payment_id: string;
  amount: number;
  created_at: string;
}

/** A payment's outcome; `brand` is the card brand as the gateway saw it (unknown when it never did). */
export type Settlement =
  | { status: 'succeeded'; chargeId: string; brand: string }
  | { status: 'failed'; chargeId: string | null; brand: string | null; failureCode: string; failureMessage: string };

/** The payments table and its refunds. Every method is synchronous, to run inside a caller's transaction. */
export class PaymentStore {
  private readonly insertRow: Statement;
  private readonly byId: Statement;
  private readonly page: Statement;
  private readonly pageAfter: Statement;
  private readonly settleRow: Statement;
  private readonly deleteRow: Statement;
  private readonly refundsOf: Statement;
  private readonly insertRefund: Statement;
  private readonly addRefunded: Statement;
  private readonly stale: Statement;

  constructor(db: Database) {
    this.insertRow = db.prepare(`
      INSERT INTO payments (id, account_id, status, amount, currency, description, metadata, customer_email,
                            card_brand, card_last4, gateway_key, created_at, updated_at)
      VALUES (@id, @account_id, 'processing', @amount, @currency, @description, @metadata, @customer_email,
              @card_brand, @card_last4, @gateway_key, @created_at, @updated_at)`);
    this.byId = db.prepare('SELECT * FROM payments WHERE id = ?');
    this.page = db.prepare('SELECT * FROM payments WHERE account_id = ? ORDER BY id DESC LIMIT ?');
    this.pageAfter = db.prepare('SELECT * FROM payments WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?');
    this.settleRow = db.prepare(`
      UPDATE payments SET status = @status, gateway_charge = @charge, card_brand = coalesce(@brand, card_brand),
                          failure_code = @failureCode, failure_message = @failureMessage, updated_at = @now
      WHERE id = @id AND status = 'processing'`);
    this.deleteRow = db.prepare("DELETE FROM payments WHERE id = ? AND status = 'processing'");
    this.refundsOf = db.prepare('SELECT * FROM payment_refunds WHERE payment_id = ? ORDER BY created_at, id');
    this.insertRefund = db.prepare(
      'INSERT INTO payment_refunds (id, payment_id, amount, created_at) VALUES (@id, @payment_id, @amount, @created_at)',
    );
    this.addRefunded = db.prepare(
      'UPDATE payments SET amount_refunded = amount_refunded + ?, updated_at = ? WHERE id = ? AND amount_refunded + ? <= amount',
    );
    this.stale = db.prepare(
      "SELECT * FROM payments WHERE status = 'processing' AND updated_at < ? ORDER BY updated_at LIMIT ?",
    );
  }

  insert(
    row: Omit<PaymentRow, 'status' | 'amount_refunded' | 'gateway_charge' | 'failure_code' | 'failure_message'>,
  ): void {
    this.insertRow.run(row);
  }

  get(id: string): PaymentRow | undefined {
    return this.byId.get(id) as PaymentRow | undefined;
  }

  /** Newest first; `after` is the last id of the previous page. */
  list(accountId: string, limit: number, after?: string): PaymentRow[] {
    return (after ? this.pageAfter.all(accountId, after, limit) : this.page.all(accountId, limit)) as PaymentRow[];
  }

  /** Moves a processing payment to its outcome; false if someone settled it first. */
  settle(id: string, settlement: Settlement): boolean {
    const failed = settlement.status === 'failed' ? settlement : undefined;
    return (
      this.settleRow.run({
        id,
        status: settlement.status,
        charge: settlement.chargeId,
        brand: settlement.brand,
        failureCode: failed?.failureCode ?? null,
        failureMessage: failed?.failureMessage ?? null,
        now: Date.now(),
      }).changes === 1
    );
  }

  /** Removes a payment that never reached the gateway (nothing was charged). */
  discard(id: string): void {
    this.deleteRow.run(id);
  }

  refunds(paymentId: string): RefundRow[] {
    return this.refundsOf.all(paymentId) as RefundRow[];
  }

  /** Records a refund unless it would exceed what was captured; false then. */
  addRefund(refund: RefundRow): boolean {
    const { changes } = this.addRefunded.run(refund.amount, Date.now(), refund.payment_id, refund.amount);
    if (changes === 0) return false;
    this.insertRefund.run(refund);
    return true;
  }

  /** Payments still processing since before `olderThan` (epoch ms): the reconciler's work list. */
  processingSince(olderThan: number, limit: number): PaymentRow[] {
    return this.stale.all(olderThan, limit) as PaymentRow[];
  }
}

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
