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

/** The keys live in a small SQLite file of the platform's own (`auth.db`), shared by the processes of one machine. */
const SCHEMA = `CREATE TABLE IF NOT EXISTS api_keys (
     id         TEXT PRIMARY KEY,
     account_id TEXT NOT NULL,
     role       TEXT NOT NULL CHECK (role IN ('api', 'admin')),
     hash       TEXT NOT NULL UNIQUE,
     hint       TEXT NOT NULL,
     created_at TEXT NOT NULL
   )`;

/**
 * API and admin keys, kept as SHA-256 hashes in the platform's own database (`auth.db`), which
 * every service reads: the keys are the one thing the services share, like an API gateway's.
 */
export class ApiKeyStore {
  private readonly insert: Statement;
  private readonly byHash: Statement;
  private readonly latest: Statement;
  /** Verified hashes; a key is never edited, so a hit stays valid. */
  private readonly cache = new Map<string, Principal>();

  constructor(db: Database) {
    db.exec(SCHEMA);
    this.insert = db.prepare(
      'INSERT INTO api_keys (id, account_id, role, hash, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.byHash = db.prepare('SELECT id, account_id, role FROM api_keys WHERE hash = ?');
    this.latest = db.prepare(
      'SELECT id, account_id, role, hint, created_at FROM api_keys WHERE role = ? ORDER BY created_at DESC LIMIT 1',
    );
  }

  /** Creates a key (and with it a new account, unless one is given). */
  issue(role: KeyRole, options: { secret?: string; accountId?: string } = {}): IssuedKey {
    const secret =
      options.secret ?? `${role === 'admin' ? 'sk_admin_' : 'sk_test_'}${randomBytes(18).toString('base64url')}`;
    const principal: Principal = {
      keyId: `key_${randomBytes(9).toString('base64url')}`,
      accountId: options.accountId ?? `acct_${randomBytes(9).toString('base64url')}`,
      role,
    };
    this.insert.run(principal.keyId, principal.accountId, role, hash(secret), hint(secret), new Date().toISOString());
    return { ...principal, secret };
  }

  /** Registers a secret given in the environment, once; later starts find it already there. */
  adopt(role: KeyRole, secret: string): Principal {
    return this.verify(secret) ?? this.issue(role, { secret });
  }

  verify(secret: string): Principal | undefined {
    const digest = hash(secret);
    const cached = this.cache.get(digest);
    if (cached) return cached;
    const row = this.byHash.get(digest) as { id: string; account_id: string; role: KeyRole } | undefined;
    if (!row) return undefined;
    const principal = { keyId: row.id, accountId: row.account_id, role: row.role };
    this.cache.set(digest, principal);
    return principal;
  }

  /** The newest key of a role, without its secret: what `npm start` can say about a key it printed before. */
  newest(role: KeyRole): { keyId: string; hint: string; createdAt: string } | undefined {
    const row = this.latest.get(role) as { id: string; hint: string; created_at: string } | undefined;
    return row && { keyId: row.id, hint: row.hint, createdAt: row.created_at };
  }
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function hint(secret: string): string {
  return `${secret.slice(0, secret.indexOf('_', 3) + 1)}…${secret.slice(-4)}`;
}
