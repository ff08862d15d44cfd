import { createHash } from 'node:crypto';
import type { SqlDatabase, SqlExecutor } from '@syncopate/messaging';
import { z } from 'zod';
import { ApiError } from './http/api-error.js';

/** How long an answer is kept for its key, as the payments API keeps its own. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** `Idempotency-Key` on a POST that takes it without requiring it. */
export const optionalIdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
});

/** The migration that creates a service's table of keys. */
export const idempotencyTable = (table: string) =>
  `CREATE TABLE ${table} (
     account_id   TEXT NOT NULL,
     key          TEXT NOT NULL,
     request_hash TEXT NOT NULL,
     status       BIGINT NOT NULL,
     body         TEXT NOT NULL,
     created_at   BIGINT NOT NULL,
     PRIMARY KEY (account_id, key)
   )`;

export interface StoredAnswer {
  status: number;
  body: unknown;
}

/** Two requests with one key reached the insert together (PostgreSQL): the later one's work is undone. */
class KeyTakenMeanwhile extends Error {}

/**
 * `Idempotency-Key` for a POST whose work is one transaction (a webhook endpoint, a report): the
 * first request with a key does the work, and its answer is written in the same transaction, so
 * the work and the record of it commit together; a retry with the same body within 24 hours gets
 * that answer again (`replayed`), and one with another body a 422. Without a key the work just runs.
 */
export class IdempotentRequests {
  constructor(
    private readonly db: SqlDatabase,
    /** The service's table, made by `idempotencyTable`. */
    private readonly table: string,
  ) {}

  async run(
    input: { accountId: string; key: string | undefined; request: unknown },
    work: (tx: SqlExecutor) => Promise<StoredAnswer>,
  ): Promise<StoredAnswer & { replayed: boolean }> {
    const { key } = input;
    if (key === undefined) return { ...(await this.db.transaction(work)), replayed: false };
    const requestHash = createHash('sha256').update(JSON.stringify(input.request)).digest('hex');
    const attempt = () =>
      this.db.transaction(async (tx) => {
        const now = Date.now();
        const expired = now - IDEMPOTENCY_TTL_MS;
        await tx.run(`DELETE FROM ${this.table} WHERE account_id = ? AND created_at < ?`, [input.accountId, expired]);
        const stored = await tx.get<{ request_hash: string; status: number; body: string }>(
          `SELECT request_hash, status, body FROM ${this.table} WHERE account_id = ? AND key = ?`,
          [input.accountId, key],
        );
        if (stored) {
          if (stored.request_hash !== requestHash) throw keyReused();
          return { status: Number(stored.status), body: JSON.parse(stored.body) as unknown, replayed: true };
        }
        const answer = await work(tx);
        const { changes } = await tx.run(
          `INSERT INTO ${this.table} (account_id, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (account_id, key) DO NOTHING`,
          [input.accountId, key, requestHash, answer.status, JSON.stringify(answer.body), now],
        );
        if (changes === 0) throw new KeyTakenMeanwhile();
        return { ...answer, replayed: false };
      });
    try {
      return await attempt();
    } catch (error) {
      // The other request committed first: this one's work is rolled back, and its answer is the other's.
      if (error instanceof KeyTakenMeanwhile) return attempt();
      throw error;
    }
  }
}

export const keyReused = () =>
  new ApiError(
    422,
    'idempotency_error',
    'idempotency_key_reused',
    'This Idempotency-Key was already used with a different request body',
    'Idempotency-Key',
  );
