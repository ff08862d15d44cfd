import { createHash } from 'node:crypto';

const MESSAGE_ID_DOMAIN = 'syncopate.local';
/** Letters, digits, "-" and "_": valid in a Message-ID's left part and in a file name on every platform. */
const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * The name an event's email goes by, derived from the event id alone: every redelivery of the event
 * gets the same one. Ids that could break a header or a path (the envelope allows any string) are hashed.
 */
export function mailKeyFor(eventId: string): string {
  if (PLAIN_ID.test(eventId)) return eventId;
  return `h-${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}`;
}

/** A deterministic Message-ID, so a receiving MTA can recognise a redelivered email as the same one. */
export function messageIdFor(eventId: string): string {
  return `<${mailKeyFor(eventId)}@${MESSAGE_ID_DOMAIN}>`;
}
