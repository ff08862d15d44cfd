import type { SqlDatabase } from '../../messaging/sql/sql-database.js';

export const GATEWAY_MIGRATIONS = [
  `CREATE TABLE charges (
     id               TEXT PRIMARY KEY,
     idempotency_key  TEXT NOT NULL UNIQUE,
     request_hash     TEXT NOT NULL,
     status           TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
     amount           BIGINT NOT NULL,
     currency         TEXT NOT NULL,
     description      TEXT,
     brand            TEXT NOT NULL,
     last4            TEXT NOT NULL,
     token            TEXT NOT NULL,
     failure_code     TEXT,
     amount_refunded  BIGINT NOT NULL DEFAULT 0,
     created_at       TEXT NOT NULL
   );
   CREATE TABLE refunds (
     id              TEXT PRIMARY KEY,
     charge_id       TEXT NOT NULL REFERENCES charges (id),
     idempotency_key TEXT NOT NULL UNIQUE,
     amount          BIGINT NOT NULL,
     created_at      TEXT NOT NULL
   );`,
];

/** A charge as the gateway keeps it: brand, last 4 and a token, never the number or the CVC. */
export interface ChargeRow {
  id: string;
  idempotency_key: string;
  request_hash: string;
  status: 'succeeded' | 'failed';
  amount: number;
  currency: string;
  description: string | null;
  brand: string;
  last4: string;
  token: string;
  failure_code: string | null;
  amount_refunded: number;
  created_at: string;
}

export interface RefundRow {
  id: string;
  charge_id: string;
  idempotency_key: string;
  amount: number;
  created_at: string;
}

const CHARGE_COLUMNS =
  'id, idempotency_key, request_hash, status, amount, currency, description, brand, last4, token, failure_code, amount_refunded, created_at';

export class ChargeStore {
  constructor(private readonly db: SqlDatabase) {}

  findByKey(idempotencyKey: string): Promise<ChargeRow | undefined> {
    return this.db.get<ChargeRow>('SELECT * FROM charges WHERE idempotency_key = ?', [idempotencyKey]);
  }

  get(id: string): Promise<ChargeRow | undefined> {
    return this.db.get<ChargeRow>('SELECT * FROM charges WHERE id = ?', [id]);
  }

  /** Inserts the charge unless one with its idempotency key exists; returns the stored one either way. */
  async insertOnce(charge: ChargeRow): Promise<{ row: ChargeRow; created: boolean }> {
    const { changes } = await this.db.transaction(
      (tx) =>
        tx.run(
          `INSERT INTO charges (${CHARGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (idempotency_key) DO NOTHING`,
          [
            charge.id,
            charge.idempotency_key,
            charge.request_hash,
            charge.status,
            charge.amount,
            charge.currency,
            charge.description,
            charge.brand,
            charge.last4,
            charge.token,
            charge.failure_code,
            charge.amount_refunded,
            charge.created_at,
          ],
        ),
      { durable: false },
    );
    if (changes === 1) return { row: charge, created: true };
    const existing = await this.findByKey(charge.idempotency_key);
    if (!existing) throw new Error(`charge with key ${charge.idempotency_key} neither inserted nor found`);
    return { row: existing, created: false };
  }

  findRefund(idempotencyKey: string): Promise<RefundRow | undefined> {
    return this.db.get<RefundRow>('SELECT * FROM refunds WHERE idempotency_key = ?', [idempotencyKey]);
  }

  /**
   * Records the refund and raises the charge's refunded total in one transaction, unless that
   * would refund more than was captured: then false and nothing changes.
   */
  refund(refund: RefundRow): Promise<boolean> {
    return this.db.transaction(
      async (tx) => {
        const { changes } = await tx.run(
          'UPDATE charges SET amount_refunded = amount_refunded + ? WHERE id = ? AND amount_refunded + ? <= amount',
          [refund.amount, refund.charge_id, refund.amount],
        );
        if (changes === 0) return false;
        await tx.run(
          'INSERT INTO refunds (id, charge_id, idempotency_key, amount, created_at) VALUES (?, ?, ?, ?, ?)',
          [refund.id, refund.charge_id, refund.idempotency_key, refund.amount, refund.created_at],
        );
        return true;
      },
      { durable: false },
    );
  }
}
