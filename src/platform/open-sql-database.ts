import { resolve } from 'node:path';
import type { SqlDatabase } from '../../packages/messaging/src/sql-database.js';
import { PostgresDatabase } from '../../packages/transport-postgres/src/postgres-database.js';
import type { SqliteOpenOptions } from '../../packages/transport-sqlite/src/open-sqlite.js';
import { SqliteDatabase } from '../../packages/transport-sqlite/src/sqlite-database.js';

/**
 * Opens a service's database: `sqlite:<file>` or `postgres://…` (the service's tables go in the
 * schema named `schema`). SQLite options apply to SQLite only.
 */
export async function openSqlDatabase(
  url: string,
  options: { schema: string } & SqliteOpenOptions,
): Promise<SqlDatabase> {
  if (url.startsWith('sqlite:')) return new SqliteDatabase(resolve(url.slice('sqlite:'.length)), options);
  if (/^postgres(ql)?:\/\//.test(url)) return PostgresDatabase.open({ url, schema: options.schema });
  throw new Error(`unsupported database URL "${url}": use sqlite:<file> or postgres://…`);
}
