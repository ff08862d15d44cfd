import type { Message, MessagePropertyHeaders } from 'amqplib';

/**
 * The headers this transport puts on messages. The body is always the envelope exactly as
 * published; what a consumer or the dead-letter console needs without parsing it travels here.
 */
export const HEADER = {
  orderingKey: 'x-syncopate-key',
  publishedAt: 'x-syncopate-published-at',
  /** Attempts before this copy was published by us: by a retry, or by a release that must not count. */
  attempts: 'x-syncopate-attempts',
  firstAttemptAt: 'x-syncopate-first-attempt-at',
  /** A retry's due time and whole delay, for a message back from a retry queue too early. */
  dueAt: 'x-syncopate-due-at',
  delayMs: 'x-syncopate-delay',
  lastError: 'x-syncopate-last-error',
  // Dead letters:
  reason: 'x-syncopate-reason',
  lastAttemptAt: 'x-syncopate-last-attempt-at',
  deadLetteredAt: 'x-syncopate-dead-lettered-at',
  position: 'x-syncopate-position',
  /** Set by quorum queues: how often the message they hold was returned (nack-requeue, closed channel). */
  deliveryCount: 'x-delivery-count',
} as const;

export const CONTENT_TYPE = 'application/cloudevents+json';

/** What a stored message says about itself, read once from its properties and headers. */
export interface WireFacts {
  eventId: string;
  type: string;
  orderingKey: string | undefined;
  publishedAt: number | undefined;
  /** Deliveries so far, this one included. */
  attempt: number;
  firstAttemptAt: number | undefined;
  dueAt: number | undefined;
  delayMs: number;
}

export function factsOf(message: Message): WireFacts {
  const headers: MessagePropertyHeaders = message.properties.headers ?? {};
  return {
    eventId: String(message.properties.messageId ?? ''),
    type: String(message.properties.type ?? message.fields.routingKey),
    orderingKey: stringHeader(headers[HEADER.orderingKey]),
    publishedAt: numberHeader(headers[HEADER.publishedAt]),
    attempt: (numberHeader(headers[HEADER.attempts]) ?? 0) + (numberHeader(headers[HEADER.deliveryCount]) ?? 0) + 1,
    firstAttemptAt: numberHeader(headers[HEADER.firstAttemptAt]),
    dueAt: numberHeader(headers[HEADER.dueAt]),
    delayMs: numberHeader(headers[HEADER.delayMs]) ?? 0,
  };
}

/** The properties of a freshly published event, or of a replayed one (its attempts reset). */
export function eventProperties(event: { id: string; type: string; orderingKey: string | undefined }, now: number) {
  const headers: Record<string, unknown> = { [HEADER.publishedAt]: now };
  if (event.orderingKey !== undefined) headers[HEADER.orderingKey] = event.orderingKey;
  return { messageId: event.id, type: event.type, contentType: CONTENT_TYPE, headers };
}

/**
 * The properties for a copy of a stored message that we publish again (a retry, a release, a
 * dead letter): our own headers carried over with `changes` applied (undefined removes one), the
 * broker's (x-death, x-delivery-count) dropped, since the copy starts a new life in its queue.
 */
export function copyProperties(message: Message, facts: WireFacts, changes: Record<string, unknown>) {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (name.startsWith('x-syncopate-')) headers[name] = value;
  }
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return {
    messageId: facts.eventId,
    type: facts.type,
    contentType: message.properties.contentType ?? CONTENT_TYPE,
    headers,
  };
}

export function stringHeader(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

export function numberHeader(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : undefined;
}
