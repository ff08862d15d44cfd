import { join } from 'node:path';
import { type Migration, migrate, type SqlDatabase } from '@syncopate/messaging';
import type { SqliteOpenOptions } from '@syncopate/transport-sqlite';
import type { Config } from './config.js';
import { openSqlDatabase } from './open-sql-database.js';

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
  if (!config.DATABASE_URL) {
    const db = await openSqlDatabase(`sqlite:${join(config.dataDir, `${service}.db`)}`, {
      schema: service,
      ...options,
    });
    await migrate(db, service, migrations);
    return db;
  }
  // `?schema_prefix=` keeps several installations (or test runs) apart in one database.
  const url = new URL(config.DATABASE_URL);
  const prefix = url.searchParams.get('schema_prefix') ?? '';
  url.searchParams.delete('schema_prefix');
  const db = await openSqlDatabase(url.toString(), { schema: `${prefix}${service}`, ...options });
  await migrate(db, service, migrations);
  return db;
}
