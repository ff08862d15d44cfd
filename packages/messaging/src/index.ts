/**
 * The messaging toolkit: everything a service needs to publish and consume events, and nothing
 * about payments. Backends plug in through `registerTransport` (their packages' `register`
 * entries); what a backend implements is in `@syncopate/messaging/driver`, and the suite that
 * proves it in `@syncopate/messaging/testing`.
 */
export { backoffDelay } from './backoff.js';
export { DeliveryJournal, type DeliveryRecord, type DeliveryState, MAX_JOURNAL_LOOKUP } from './delivery-journal.js';
export { createTransport } from './driven-transport.js';
export { type Envelope, envelopeSchema, MAX_ENVELOPE_BYTES, newEventId } from './envelope.js';
export * from './errors.js';
export {
  type CreateEventOptions,
  checkEventData,
  createEvent,
  defineEvent,
  type EventData,
  type EventOf,
  type EventType,
} from './event-type.js';
export { Inbox, type InboxResult } from './inbox.js';
export {
  openDriver,
  openTransport,
  registeredSchemes,
  registerTransport,
  SchemeTakenError,
  type TransportFactory,
} from './open-transport.js';
export type { Outbox } from './outbox.js';
export { type OutboxBacklog, OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
export { OutboxTable } from './outbox-table.js';
export { sleep } from './sleep.js';
export {
  type Dialect,
  type Migration,
  migrate,
  type SqlDatabase,
  type SqlExecutor,
  type SqlParams,
  type TransactionOptions,
} from './sql-database.js';
export { contextOf, contextOfSpan } from './tracing.js';
export * from './transport.js';
