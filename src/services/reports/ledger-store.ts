import type { SqlDatabase, SqlExecutor } from '@syncopate/messaging';

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
  constructor(private readonly db: SqlDatabase) {}

  /** Runs in the caller's (the inbox's) transaction. */
  async record(tx: SqlExecutor, entry: LedgerEntry): Promise<void> {
    // The refunded total only grows: taking the larger one keeps a late, older refund event harmless.
    await tx.run(
      `INSERT INTO ledger_payments (account_id, payment_id, status, amount, currency, amount_refunded,
                                    customer_email, description, created_at, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, payment_id) DO UPDATE SET
         status = excluded.status,
         amount_refunded = CASE WHEN excluded.amount_refunded > ledger_payments.amount_refunded
                                THEN excluded.amount_refunded ELSE ledger_payments.amount_refunded END`,
      [
        entry.account_id,
        entry.payment_id,
        entry.status,
        entry.amount,
        entry.currency,
        entry.amount_refunded,
        entry.customer_email,
        entry.description,
        entry.created_at,
        Date.parse(entry.created_at),
      ],
    );
  }

  paymentsIn(options: { accountId: string; fromMs: number; toMs: number; limit: number }): Promise<LedgerPayment[]> {
    return this.db.all<LedgerPayment>(
      `SELECT payment_id, status, amount, currency, amount_refunded, customer_email, description, created_at
       FROM ledger_payments
       WHERE account_id = ? AND created_at_ms >= ? AND created_at_ms < ?
       ORDER BY created_at_ms, payment_id
       LIMIT ?`,
      [options.accountId, options.fromMs, options.toMs, options.limit],
    );
  }
}
