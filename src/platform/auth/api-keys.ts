import { createHash, randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';

export type KeyRole = 'api' | 'admin';

/** Who is calling: an account (the merchant) through one of its keys. */
export interface Principal {
  accountId: string;
  keyId: string;
  role: KeyRole;
}

export interface IssuedKey extends Principal {
  /** The secret itself: shown once, stored only as a hash. */
  secret: string;
}

/** A key as `syncopate keys list` shows it: never its secret, only a hint of it. */
export interface KeyRecord extends Principal {
  hint: string;
  createdAt: string;
  revokedAt: string | null;
}

/** A secret given in the environment that was revoked: it must not open anything again. */
export class RevokedKeyError extends Error {
  readonly code = 'key_revoked';
}

/** The keys live in a small SQLite file of the platform's own (`auth.db`), shared by the processes of one machine. */
const SCHEMA = `CREATE TABLE IF NOT EXISTS api_keys (
     id         TEXT PRIMARY KEY,
     account_id TEXT NOT NULL,
     role       TEXT NOT NULL CHECK (role IN ('api', 'admin')),
     hash       TEXT NOT NULL UNIQUE,
     hint       TEXT NOT NULL,
     created_at TEXT NOT NULL,
     revoked_at TEXT
   )`;

interface KeyRow {
  id: string;
  account_id: string;
  role: KeyRole;
  hint: string;
  created_at: string;
  revoked_at: string | null;
}

/**
 * API and admin keys, kept as SHA-256 hashes in the platform's own database (`auth.db`), which
 * every service reads: the keys are the one thing the services share, like an API gateway's.
 * Every check reads the file (an indexed lookup of a few microseconds), so a key revoked by
 * `syncopate keys revoke` in another process is refused from the next request on.
 */
export class ApiKeyStore {
  private readonly insert: Statement;
  private readonly insertAbsent: Statement;
  private readonly byHash: Statement;
  private readonly latest: Statement;
  private readonly all: Statement;
  private readonly revokeById: Statement;
  private readonly activeById: Statement;

  constructor(db: Database) {
    db.exec(SCHEMA);
    // Files made before keys could be revoked gain the column (once: processes may start together).
    db.transaction(() => {
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('api_keys') as string[];
      if (!columns.includes('revoked_at')) db.exec('ALTER TABLE api_keys ADD COLUMN revoked_at TEXT');
    }).immediate();
    this.insert = db.prepare(
      'INSERT INTO api_keys (id, account_id, role, hash, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertAbsent = db.prepare(
      `INSERT INTO api_keys (id, account_id, role, hash, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (hash) DO NOTHING`,
    );
    this.byHash = db.prepare('SELECT id, account_id, role, revoked_at FROM api_keys WHERE hash = ?');
    this.latest = db.prepare(
      'SELECT id, account_id, role, hint, created_at FROM api_keys WHERE role = ? AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1',
    );
    this.all = db.prepare('SELECT * FROM api_keys ORDER BY created_at, id');
    this.revokeById = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.activeById = db.prepare('SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL').pluck();
  }

  /** Creates a key (and with it a new account, unless one is given). */
  issue(role: KeyRole, options: { secret?: string; accountId?: string } = {}): IssuedKey {
    const secret =
      options.secret ?? `${role === 'admin' ? 'sk_admin_' : 'sk_test_'}${randomBytes(18).toString('base64url')}`;
    const principal = newPrincipal(role, options.accountId);
    this.insert.run(principal.keyId, principal.accountId, role, hash(secret), hint(secret), new Date().toISOString());
    return { ...principal, secret };
  }

  /**
   * Registers a secret given in the environment, once; later starts find it already there, and
   * processes starting together agree (the insert that loses changes nothing). A revoked one is
   * refused: setting it again must not bring it back.
   */
  adopt(role: KeyRole, secret: string): Principal {
    const digest = hash(secret);
    const fresh = newPrincipal(role);
    this.insertAbsent.run(fresh.keyId, fresh.accountId, role, digest, hint(secret), new Date().toISOString());
    const row = this.byHash.get(digest) as KeyRow;
    if (row.revoked_at) throw new RevokedKeyError(`this ${role} key was revoked at ${row.revoked_at}`);
    return principalOf(row);
  }

  /** Who the secret belongs to; undefined for an unknown or revoked key. */
  verify(secret: string): Principal | undefined {
    const row = this.byHash.get(hash(secret)) as KeyRow | undefined;
    return row && !row.revoked_at ? principalOf(row) : undefined;
  }

  /** Whether the key (by id) may still be used: open streams of a revoked key are ended with it. */
  isActive(keyId: string): boolean {
    return this.activeById.get(keyId) !== undefined;
  }

  /** Every key, oldest first, without its secret. */
  list(): KeyRecord[] {
    return (this.all.all() as KeyRow[]).map((row) => ({
      ...principalOf(row),
      hint: row.hint,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    }));
  }

  /** Revokes a key for good; false when there is no live key with this id. */
  revoke(keyId: string): boolean {
    return this.revokeById.run(new Date().toISOString(), keyId).changes === 1;
  }

  /** The newest key of a role, without its secret: what `npm start` can say about a key it printed before. */
  newest(role: KeyRole): { keyId: string; hint: string; createdAt: string } | undefined {
    const row = this.latest.get(role) as { id: string; hint: string; created_at: string } | undefined;
    return row && { keyId: row.id, hint: row.hint, createdAt: row.created_at };
  }
}

function newPrincipal(role: KeyRole, accountId?: string): Principal {
  return {
    keyId: `key_${randomBytes(9).toString('base64url')}`,
    accountId: accountId ?? `acct_${randomBytes(9).toString('base64url')}`,
    role,
  };
}

function principalOf(row: Pick<KeyRow, 'id' | 'account_id' | 'role'>): Principal {
  return { keyId: row.id, accountId: row.account_id, role: row.role };
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function hint(secret: string): string {
  return `${secret.slice(0, secret.indexOf('_', 3) + 1)}…${secret.slice(-4)}`;
}
