import type { SqlDatabase, SqlExecutor } from '@syncopate/messaging';

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

/**
 * How long the gateway remembers an idempotency key, as a real provider does (Stripe: 24 hours).
 * A little shorter than the payments service keeps its own keys, so a key payments has forgotten
 * is forgotten here too: its reuse is a new charge, not a replay of the old one.
 */
export const GATEWAY_KEY_TTL_MS = 24 * 60 * 60 * 1000 - 5 * 60 * 1000;

/** Rows created before this (ISO timestamps, which compare as strings) hold expired keys. */
const cutoff = () => new Date(Date.now() - GATEWAY_KEY_TTL_MS).toISOString();

export const keyExpired = (row: { created_at: string }) => row.created_at < cutoff();

/** Sets an expired key aside: its old row keeps its record under another name, and the key is free again. */
const RETIRE = "idempotency_key = idempotency_key || ':expired:' || id";

const refundUnder = (ex: SqlExecutor, idempotencyKey: string) =>
  ex.get<RefundRow>('SELECT * FROM refunds WHERE idempotency_key = ?', [idempotencyKey]);

/** The row an insert ran into: a conflict means it exists, so not finding it is a bug, not an answer. */
function conflictingRow<T>(kind: 'charge' | 'refund', idempotencyKey: string, row: T | undefined): T {
  if (!row) throw new Error(`${kind} with key ${idempotencyKey} neither inserted nor found`);
  return row;
}

export class ChargeStore {
  constructor(private readonly db: SqlDatabase) {}

  findByKey(idempotencyKey: string): Promise<ChargeRow | undefined> {
    return this.db.get<ChargeRow>('SELECT * FROM charges WHERE idempotency_key = ?', [idempotencyKey]);
  }

  get(id: string): Promise<ChargeRow | undefined> {
    return this.db.get<ChargeRow>('SELECT * FROM charges WHERE id = ?', [id]);
  }

  /**
   * Inserts the charge unless one with its idempotency key exists; returns the stored one either
   * way. The insert is the lookup: a new key (the common case) costs one statement. A key whose
   * charge is older than the TTL is retired first, so the charge is made anew.
   */
  async insertOnce(charge: ChargeRow): Promise<{ row: ChargeRow; created: boolean }> {
    if (await this.db.transaction((tx) => this.insert(tx, charge), { durable: false })) {
      return { row: charge, created: true };
    }
    const existing = await this.storedUnder(charge.idempotency_key);
    if (!keyExpired(existing)) return { row: existing, created: false };
    const retired = await this.db.transaction(
      async (tx) => {
        await tx.run(`UPDATE charges SET ${RETIRE} WHERE idempotency_key = ? AND created_at < ?`, [
          existing.idempotency_key,
          cutoff(),
        ]);
        return this.insert(tx, charge);
      },
      { durable: false },
    );
    if (retired) return { row: charge, created: true };
    // A concurrent request with the same key made the new charge first: answer with it.
    return { row: await this.storedUnder(charge.idempotency_key), created: false };
  }

  /** The charge a conflicting insert ran into. */
  private async storedUnder(idempotencyKey: string): Promise<ChargeRow> {
    return conflictingRow('charge', idempotencyKey, await this.findByKey(idempotencyKey));
  }

  /** One INSERT; false when the key is taken. */
  private async insert(tx: SqlExecutor, charge: ChargeRow): Promise<boolean> {
    const { changes } = await tx.run(
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
    );
    return changes === 1;
  }

  findRefund(idempotencyKey: string): Promise<RefundRow | undefined> {
    return refundUnder(this.db, idempotencyKey);
  }

  /**
   * Records the refund and raises the charge's refunded total in one transaction, and returns the
   * refund that stands under its key: this one (`created`), or the one a concurrent request with
   * the same key recorded first (on PostgreSQL the insert waits for it to commit; nothing of this
   * one is kept). Undefined when it would refund more than was captured: nothing changes.
   */
  refund(refund: RefundRow): Promise<{ row: RefundRow; created: boolean } | undefined> {
    return this.db.transaction(
      async (tx) => {
        // The caller found no live refund under this key: an expired one gives its key up.
        await tx.run(`UPDATE refunds SET ${RETIRE} WHERE idempotency_key = ? AND created_at < ?`, [
          refund.idempotency_key,
          cutoff(),
        ]);
        const inserted = await tx.run(
          `INSERT INTO refunds (id, charge_id, idempotency_key, amount, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (idempotency_key) DO NOTHING`,
          [refund.id, refund.charge_id, refund.idempotency_key, refund.amount, refund.created_at],
        );
        if (inserted.changes === 0) {
          const first = conflictingRow('refund', refund.idempotency_key, await refundUnder(tx, refund.idempotency_key));
          return { row: first, created: false };
        }
        const raised = await tx.run(
          'UPDATE charges SET amount_refunded = amount_refunded + ? WHERE id = ? AND amount_refunded + ? <= amount',
          [refund.amount, refund.charge_id, refund.amount],
        );
        if (raised.changes === 1) return { row: refund, created: true };
        await tx.run('DELETE FROM refunds WHERE id = ?', [refund.id]);
        return undefined;
      },
      { durable: false },
    );
  }
}
