import type { Envelope } from '../envelope.js';

/**
 * Where a service writes the events of a change, inside the same database transaction as the
 * change itself: both commit or neither does. Synchronous on purpose: it runs inside a
 * better-sqlite3 transaction, which cannot span an `await`.
 */
export interface Outbox {
  append(events: readonly Envelope[]): void;
}
