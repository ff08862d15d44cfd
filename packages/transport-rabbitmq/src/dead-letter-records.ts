import type { DeadLetterRecord } from '@syncopate/messaging/driver';
import type { Message } from 'amqplib';
import { factsOf, HEADER, numberHeader, stringHeader } from './wire.js';

export type PositionedRecord = DeadLetterRecord & { position: number };

let lastPosition = 0;

/**
 * A dead letter's place in its group's list, and the list's cursor: the dead-lettering time in
 * hundredths of a millisecond (15 digits, as cursors allow), strictly increasing within a process.
 * Two processes can collide within one millisecond; paging keeps such ties on one page.
 */
export function nextDeadLetterPosition(now: number): number {
  lastPosition = Math.max(lastPosition + 1, now * 100);
  return lastPosition;
}

export function recordOf(group: string, message: Message): PositionedRecord {
  const facts = factsOf(message);
  const headers = message.properties.headers ?? {};
  const deadLetteredAt = numberHeader(headers[HEADER.deadLetteredAt]) ?? 0;
  return {
    group,
    eventId: facts.eventId,
    type: facts.type,
    orderingKey: facts.orderingKey ?? null,
    body: message.content.toString('utf8'),
    reason: stringHeader(headers[HEADER.reason]) ?? '',
    attempts: numberHeader(headers[HEADER.attempts]) ?? 0,
    firstAttemptAt: facts.firstAttemptAt ?? null,
    lastAttemptAt: numberHeader(headers[HEADER.lastAttemptAt]) ?? null,
    deadLetteredAt,
    position: numberHeader(headers[HEADER.position]) ?? deadLetteredAt * 100,
  };
}

/** One page after `after`, `limit` long, except that records sharing a position never straddle two pages. */
export function pageOf(sorted: readonly PositionedRecord[], after: number, limit: number) {
  const rest = sorted.filter((record) => record.position > after);
  let items = rest.slice(0, limit);
  const last = items.at(-1);
  const next = rest[limit];
  if (last && next && next.position === last.position) {
    const before = items.filter((record) => record.position !== last.position);
    items = before.length > 0 ? before : rest.filter((record) => record.position === last.position);
  }
  const end = items.at(-1);
  return { items, nextCursor: end && rest.length > items.length ? String(end.position) : null };
}
