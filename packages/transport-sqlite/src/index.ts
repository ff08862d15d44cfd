/**
 * The embedded transport: a queue in one SQLite file, shared by every process on the machine that
 * opens it; and the SQLite side of the toolkit's SQL port (`SqliteDatabase`, group commit). Import
 * `@syncopate/transport-sqlite/register` to open it by URL (`sqlite:./data/syncopate.db`).
 */
export { openSqlite, type SqliteOpenOptions, type Synchronous } from './open-sqlite.js';
export { SqliteQueueOutbox } from './queue-outbox.js';
export { SqliteDatabase } from './sqlite-database.js';
export { openSqliteDriver, SqliteDriver, type SqliteDriverOptions } from './sqlite-driver.js';
export { parseSqliteUrl, SQLITE_DEFAULTS, type SqliteUrlOptions } from './sqlite-url.js';
