import type { Envelope } from './envelope.js';
import type { SqlExecutor } from './sql-database.js';

/**
 * Where a service writes the events of a change, inside the same database transaction as the
 * change itself (`tx`): both commit or neither does.
 */
export interface Outbox {
  append(tx: SqlExecutor, events: readonly Envelope[]): Promise<void>;
}
