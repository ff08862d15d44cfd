/** The messaging toolkit: everything a service needs to publish and consume events, and nothing about payments. */
export { backoffDelay } from './backoff.js';
export { type Envelope, newEventId } from './envelope.js';
export * from './errors.js';
export {
  type CreateEventOptions,
  createEvent,
  defineEvent,
  type EventData,
  type EventOf,
  type EventType,
} from './event-type.js';
export { openTransport } from './open-transport.js';
export type * from './transport.js';
