import type { Database, Statement } from 'better-sqlite3';

export const GATEWAY_MIGRATIONS = [
  `CREATE TABLE charges (
     id               TEXT PRIMARY KEY,
     idempotency_key  TEXT NOT NULL UNIQUE,
     request_hash     TEXT NOT NULL,
     status           TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
     amount           INTEGER NOT NULL,
     currency         TEXT NOT NULL,
     description      TEXT,
     brand            TEXT NOT NULL,
     last4            TEXT NOT NULL,
     token            TEXT NOT NULL,
     failure_code     TEXT,
     amount_refunded  INTEGER NOT NULL DEFAULT 0,
     created_at       TEXT NOT NULL
   );
   CREATE TABLE refunds (
     id              TEXT PRIMARY KEY,
     charge_id       TEXT NOT NULL REFERENCES charges (id),
     idempotency_key TEXT NOT NULL UNIQUE,
     amount          INTEGER NOT NULL,
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

export class ChargeStore {
  private readonly byKey: Statement;
  private readonly byId: Statement;
  private readonly insertCharge: Statement;
  private readonly refundByKey: Statement;
  private readonly insertRefund: Statement;
  private readonly addRefunded: Statement;

  constructor(private readonly db: Database) {
    this.byKey = db.prepare('SELECT * FROM charges WHERE idempotency_key = ?');
    this.byId = db.prepare('SELECT * FROM charges WHERE id = ?');
    this.insertCharge = db.prepare(`
      INSERT INTO charges (id, idempotency_key, request_hash, status, amount, currency, description, brand, last4,
                           token, failure_code, amount_refunded, created_at)
      VALUES (@id, @idempotency_key, @request_hash, @status, @amount, @currency, @description, @brand, @last4,
              @token, @failure_code, @amount_refunded, @created_at)`);
    this.refundByKey = db.prepare('SELECT * FROM refunds WHERE idempotency_key = ?');
    this.insertRefund = db.prepare(
      'INSERT INTO refunds (id, charge_id, idempotency_key, amount, created_at) VALUES (@id, @charge_id, @idempotency_key, @amount, @created_at)',
    );
    this.addRefunded = db.prepare('UPDATE charges SET amount_refunded = amount_refunded + ? WHERE id = ?');
  }

  findByKey(idempotencyKey: string): ChargeRow | undefined {
    return this.byKey.get(idempotencyKey) as ChargeRow | undefined;
  }

  get(id: string): ChargeRow | undefined {
    return this.byId.get(id) as ChargeRow | undefined;
  }

  insert(charge: ChargeRow): void {
    this.insertCharge.run(charge);
  }

  findRefund(idempotencyKey: string): RefundRow | undefined {
    return this.refundByKey.get(idempotencyKey) as RefundRow | undefined;
  }

  /** Records the refund and raises the charge's refunded total in one transaction. */
  refund(refund: RefundRow): void {
    this.db.transaction(() => {
      this.insertRefund.run(refund);
      this.addRefunded.run(refund.amount, refund.charge_id);
    })();
  }
}
