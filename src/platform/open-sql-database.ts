import { resolve } from 'node:path';
import type { SqlDatabase } from '@syncopate/messaging';
import { PostgresDatabase } from '@syncopate/transport-postgres';
import { SqliteDatabase, type SqliteOpenOptions } from '@syncopate/transport-sqlite';

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
