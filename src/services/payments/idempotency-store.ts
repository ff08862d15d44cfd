import type { SqlExecutor } from '@syncopate/messaging';

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export type Claim =
  /** First use: the caller owns the key and does the work for `resourceId`. */
  | { kind: 'new' }
  /** A request with this key died mid-way: the caller takes the work over for the same resource. */
  | { kind: 'resume'; resourceId: string }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'in-flight' }
  | { kind: 'mismatch' };

interface KeyRow {
  request_hash: string;
  state: 'in_flight' | 'done';
  resource_id: string;
  response_status: number | null;
  response_body: string | null;
  locked_at: number;
  created_at: number;
}

/**
 * Idempotency keys, scoped to the account: the first request with a key does the work and its
 * response is kept 24 hours; a retry gets that response back, a concurrent one a 409, and the
 * same key with another body a 422. A request that died holding a key (its process killed) is
 * taken over after `staleAfterMs`. Every method runs in the caller's transaction.
 */
export class IdempotencyStore {
  constructor(private readonly staleAfterMs: number) {}

  /** Must run inside a transaction together with whatever `new` leads the caller to write. */
  async claim(
    ex: SqlExecutor,
    accountId: string,
    key: string,
    requestHash: string,
    resourceId: string,
  ): Promise<Claim> {
    const now = Date.now();
    // The insert comes first: a new key (the common case) costs one statement. A key seen before
    // conflicts, and is taken over only if it has expired.
    const claimed = await ex.get<{ claimed: number }>(
      `INSERT INTO idempotency_keys (account_id, key, request_hash, state, resource_id, locked_at, created_at)
       VALUES (?, ?, ?, 'in_flight', ?, ?, ?)
       ON CONFLICT (account_id, key) DO UPDATE SET
         request_hash = excluded.request_hash, state = 'in_flight', resource_id = excluded.resource_id,
         response_status = NULL, response_body = NULL, locked_at = excluded.locked_at, created_at = excluded.created_at
       WHERE idempotency_keys.created_at < ?
       RETURNING 1 AS claimed`,
      [accountId, key, requestHash, resourceId, now, now, now - IDEMPOTENCY_TTL_MS],
    );
    if (claimed) return { kind: 'new' };
    const row = await ex.get<KeyRow>('SELECT * FROM idempotency_keys WHERE account_id = ? AND key = ?', [
      accountId,
      key,
    ]);
    // Deleted between the two statements (released, or purged): it was in use a moment ago.
    if (!row) return { kind: 'in-flight' };
    if (row.request_hash !== requestHash) return { kind: 'mismatch' };
    if (row.state === 'done' && row.response_status !== null && row.response_body !== null) {
      return { kind: 'replay', status: Number(row.response_status), body: row.response_body };
    }
    if (row.locked_at > now - this.staleAfterMs) return { kind: 'in-flight' };
    await ex.run('UPDATE idempotency_keys SET locked_at = ? WHERE account_id = ? AND key = ?', [now, accountId, key]);
    return { kind: 'resume', resourceId: row.resource_id };
  }

  async complete(ex: SqlExecutor, accountId: string, key: string, status: number, body: unknown): Promise<void> {
    await ex.run(
      "UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ? WHERE account_id = ? AND key = ?",
      [status, JSON.stringify(body), accountId, key],
    );
  }

  /** Records the final answer for a resource whose request died holding its key. */
  async completeForResource(ex: SqlExecutor, resourceId: string, status: number, body: unknown): Promise<void> {
    await ex.run(
      "UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ? WHERE resource_id = ? AND state = 'in_flight'",
      [status, JSON.stringify(body), resourceId],
    );
  }

  /** Forgets a key whose request changed nothing, so the client may simply retry. */
  async release(ex: SqlExecutor, accountId: string, key: string): Promise<void> {
    await ex.run('DELETE FROM idempotency_keys WHERE account_id = ? AND key = ?', [accountId, key]);
  }

  async purgeExpired(ex: SqlExecutor): Promise<number> {
    return (await ex.run('DELETE FROM idempotency_keys WHERE created_at < ?', [Date.now() - IDEMPOTENCY_TTL_MS]))
      .changes;
  }
}
