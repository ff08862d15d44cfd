import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, type SqliteOpenOptions } from '../messaging/transports/sqlite/database.js';

/**
 * Each service owns one SQLite file under DATA_DIR. Migrations are numbered SQL scripts, applied
 * once each, in order, in one transaction with the record that they ran.
 */
export function openServiceDatabase(
  dataDir: string,
  service: string,
  migrations: readonly string[],
  options?: SqliteOpenOptions,
): Database {
  const db = openSqlite(join(dataDir, `${service}.db`), options);
  migrate(db, service, migrations);
  return db;
}

export function migrate(db: Database, scope: string, migrations: readonly string[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    scope TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (scope, version))`);
  const applied = db.prepare('SELECT max(version) FROM schema_migrations WHERE scope = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (scope, version, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    const current = (applied.get(scope) as number | null) ?? 0;
    migrations.forEach((sql, index) => {
      const version = index + 1;
      if (version <= current) return;
      db.exec(sql);
      record.run(scope, version, new Date().toISOString());
    });
  }).immediate();
}
