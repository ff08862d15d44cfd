/**
 * What a transport package builds on: the pieces every driver shares, so that each backend only
 * says how it stores, claims and settles (see WRITING-A-TRANSPORT.md in this package).
 * The driver contract itself (`TransportDriver`, `GroupQueue`, `Delivery`, `TransportCapabilities`)
 * is in the main entry, beside the `Transport` it becomes.
 */
export {
  clipReason,
  type DeadLetterRecord,
  MAX_REASON_LENGTH,
  parsePageRequest,
  toDeadLetter,
} from './dead-letters.js';
export { decodeEnvelope, encodeEnvelope } from './envelope.js';
export { announcePublished, waitForPublish } from './in-process-publish-signal.js';
export { MemoryDriver } from './memory-driver.js';
export { parseServerUrl } from './server-url.js';
export { groupNameSchema } from './subscribe-options.js';
