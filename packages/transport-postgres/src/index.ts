/**
 * The PostgreSQL transport: a queue in PostgreSQL tables (claims with SKIP LOCKED, LISTEN/NOTIFY
 * wake-ups); and the PostgreSQL side of the toolkit's SQL port (`PostgresDatabase`). Import
 * `@syncopate/transport-postgres/register` to open it by URL (`postgres://…?schema=syncopate`).
 */
export { type AppendEventsOptions, appendEvents } from './append-events.js';
export {
  isPostgresExecutor,
  PostgresDatabase,
  type PostgresExecutor,
  UnsafeIntegerError,
} from './postgres-database.js';
export { openPostgresDriver, PostgresDriver } from './postgres-driver.js';
export { PostgresQueueOutbox } from './queue-outbox.js';
export { migratePostgresQueue } from './schema.js';
export { type NotifyMode, POSTGRES_DEFAULTS, type PostgresUrlOptions, parsePostgresUrl } from './url.js';
