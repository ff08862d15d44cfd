import type { Database, Statement } from 'better-sqlite3';

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
 * taken over after `staleAfterMs`.
 */
export class IdempotencyStore {
  private readonly find: Statement;
  private readonly insert: Statement;
  private readonly relock: Statement;
  private readonly finish: Statement;
  private readonly drop: Statement;
  private readonly finishForResource: Statement;
  private readonly expire: Statement;

  constructor(
    db: Database,
    private readonly staleAfterMs: number,
  ) {
    this.find = db.prepare('SELECT * FROM idempotency_keys WHERE account_id = ? AND key = ?');
    this.insert = db.prepare(`
      INSERT OR REPLACE INTO idempotency_keys (account_id, key, request_hash, state, resource_id, locked_at, created_at)
      VALUES (?, ?, ?, 'in_flight', ?, ?, ?)`);
    this.relock = db.prepare('UPDATE idempotency_keys SET locked_at = ? WHERE account_id = ? AND key = ?');
    this.finish = db.prepare(`
      UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ?
      WHERE account_id = ? AND key = ?`);
    this.finishForResource = db.prepare(`
      UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ?
      WHERE resource_id = ? AND state = 'in_flight'`);
    this.drop = db.prepare('DELETE FROM idempotency_keys WHERE account_id = ? AND key = ?');
    this.expire = db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
  }

  /** Must run inside a transaction together with whatever `new` leads the caller to write. */
  claim(accountId: string, key: string, requestHash: string, resourceId: string): Claim {
    const now = Date.now();
    const row = this.find.get(accountId, key) as KeyRow | undefined;
    if (!row || row.created_at < now - IDEMPOTENCY_TTL_MS) {
      this.insert.run(accountId, key, requestHash, resourceId, now, now);
      return { kind: 'new' };
    }
    if (row.request_hash !== requestHash) return { kind: 'mismatch' };
    if (row.state === 'done' && row.response_status !== null && row.response_body !== null) {
      return { kind: 'replay', status: row.response_status, body: row.response_body };
    }
    if (row.locked_at > now - this.staleAfterMs) return { kind: 'in-flight' };
    this.relock.run(now, accountId, key);
    return { kind: 'resume', resourceId: row.resource_id };
  }

  complete(accountId: string, key: string, status: number, body: unknown): void {
    this.finish.run(status, JSON.stringify(body), accountId, key);
  }

  /** Records the final answer for a resource whose request died holding its key. */
  completeForResource(resourceId: string, status: number, body: unknown): void {
    this.finishForResource.run(status, JSON.stringify(body), resourceId);
  }

  /** Forgets a key whose request changed nothing, so the client may simply retry. */
  release(accountId: string, key: string): void {
    this.drop.run(accountId, key);
  }

  purgeExpired(): number {
    return this.expire.run(Date.now() - IDEMPOTENCY_TTL_MS).changes;
  }
}
