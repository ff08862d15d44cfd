import { join } from 'node:path';
import { openSqlDatabase } from '../messaging/sql/open-sql-database.js';
import { type Migration, migrate, type SqlDatabase } from '../messaging/sql/sql-database.js';
import type { SqliteOpenOptions } from '../messaging/transports/sqlite/database.js';
import type { Config } from './config.js';

/**
 * A service's own database: a SQLite file of its own under DATA_DIR, or, with DATABASE_URL, a
 * schema of its own in PostgreSQL. Either way it is migrated before the service sees it.
 */
export async function openServiceDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'dataDir'>,
  service: string,
  migrations: readonly Migration[],
  options: SqliteOpenOptions = {},
): Promise<SqlDatabase> {
  const url = config.DATABASE_URL ?? `sqlite:${join(config.dataDir, `${service}.db`)}`;
  const db = await openSqlDatabase(url, { schema: service, ...options });
  await migrate(db, service, migrations);
  return db;
}
