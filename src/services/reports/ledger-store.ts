import type { Database, Statement } from 'better-sqlite3';

/** One payment as a report lists it; amounts in minor units. */
export interface LedgerPayment {
  payment_id: string;
  status: 'succeeded' | 'failed';
  amount: number;
  currency: string;
  amount_refunded: number;
  customer_email: string;
  description: string | null;
  created_at: string;
}

export interface LedgerEntry extends LedgerPayment {
  account_id: string;
}

/**
 * The reports service's read model of payments, one row per payment per account, kept from the
 * payment events so a report never asks the payments service for anything.
 */
export class LedgerStore {
  private readonly upsert: Statement;
  private readonly inRange: Statement;

  constructor(db: Database) {
    // The refunded total only grows: taking the larger one keeps a late, older refund event harmless.
    this.upsert = db.prepare(`
      INSERT INTO ledger_payments (account_id, payment_id, status, amount, currency, amount_refunded,
                                   customer_email, description, created_at, created_at_ms)
      VALUES (@account_id, @payment_id, @status, @amount, @currency, @amount_refunded,
              @customer_email, @description, @created_at, @created_at_ms)
      ON CONFLICT (account_id, payment_id) DO UPDATE SET
        status = excluded.status,
        amount_refunded = max(amount_refunded, excluded.amount_refunded)`);
    this.inRange = db.prepare(`
      SELECT payment_id, status, amount, currency, amount_refunded, customer_email, description, created_at
      FROM ledger_payments
      WHERE account_id = @accountId AND created_at_ms >= @fromMs AND created_at_ms < @toMs
      ORDER BY created_at_ms, payment_id
      LIMIT @limit`);
  }

  /** Synchronous, so it can run inside the inbox's transaction. */
  record(entry: LedgerEntry): void {
    this.upsert.run({ ...entry, created_at_ms: Date.parse(entry.created_at) });
  }

  /** The account's payments created in [fromMs, toMs), oldest first, at most `limit`. */
  paymentsIn(options: { accountId: string; fromMs: number; toMs: number; limit: number }): LedgerPayment[] {
    return this.inRange.all(options) as LedgerPayment[];
  }
}
