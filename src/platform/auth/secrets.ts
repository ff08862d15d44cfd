import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { Config } from '../config.js';

/** The secrets the system's processes present to each other; none has a default value. */
export interface ServiceSecrets {
  /** Payments presents it to the gateway. */
  gatewayKey: string;
  /** Payments presents it to the effect endpoints of sync mode. */
  internalKey: string;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS platform_secrets (
     name       TEXT PRIMARY KEY,
     value      TEXT NOT NULL,
     created_at TEXT NOT NULL
   )`;

/**
 * Secrets generated at first start and kept in the platform's own file (`auth.db`), so every
 * process of one DATA_DIR finds the same value: the first process to need one writes it, and
 * processes starting together agree, since the insert that loses changes nothing.
 */
export class SecretStore {
  private readonly insert: Statement;
  private readonly byName: Statement;

  constructor(db: Database) {
    db.exec(SCHEMA);
    this.insert = db.prepare(
      'INSERT INTO platform_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
    );
    this.byName = db.prepare('SELECT value FROM platform_secrets WHERE name = ?').pluck();
  }

  /** The named secret, generated now if this DATA_DIR has none yet. */
  ensure(name: string): string {
    this.insert.run(name, `${name.toLowerCase()}_${randomBytes(32).toString('base64url')}`, new Date().toISOString());
    return this.byName.get(name) as string;
  }
}

/** A secret given in the environment wins; otherwise the one kept in DATA_DIR (made at first start). */
export function resolveSecrets(
  config: Pick<Config, 'GATEWAY_KEY' | 'INTERNAL_KEY'>,
  store: SecretStore,
): ServiceSecrets {
  return {
    gatewayKey: config.GATEWAY_KEY ?? store.ensure('GATEWAY_KEY'),
    internalKey: config.INTERNAL_KEY ?? store.ensure('INTERNAL_KEY'),
  };
}
