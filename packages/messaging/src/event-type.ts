import type { Context } from '@opentelemetry/api';
import type { z } from 'zod';
import { type Envelope, encodeEnvelope, MAX_ENVELOPE_BYTES, newEventId } from './envelope.js';
import { formatZodError, InvalidEventError } from './errors.js';
import { traceCreation } from './tracing.js';

/** An event type declared once: its name, its schema version, and the schema that gives its TypeScript type. */
export interface EventType<Schema extends z.ZodType = z.ZodType, Name extends string = string> {
  readonly type: Name;
  readonly version: number;
  readonly schema: Schema;
  /** The CloudEvents `dataschema` this declaration stamps on its events. */
  readonly dataschema: string;
  readonly description?: string;
}

export type EventData<E extends EventType> = z.output<E['schema']>;
/** The envelope of one declared type; for a union of declarations, a union discriminated by `type`. */
export type EventOf<E extends EventType> =
  E extends EventType<infer Schema, infer Name> ? Envelope<z.output<Schema>> & { type: Name } : never;

export interface EventTypeOptions<Schema extends z.ZodType, Name extends string> {
  type: Name;
  version: number;
  schema: Schema;
  description?: string;
}

const EVENT_TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export function defineEvent<Schema extends z.ZodType, const Name extends string>(
  options: EventTypeOptions<Schema, Name>,
): EventType<Schema, Name> {
  if (!EVENT_TYPE_NAME.test(options.type)) {
    throw new TypeError(`event type "${options.type}" must be dotted lower-case, like "payment.succeeded"`);
  }
  if (!Number.isInteger(options.version) || options.version < 1) {
    throw new TypeError(`event type "${options.type}" needs a positive integer version`);
  }
  return Object.freeze({
    ...options,
    dataschema: `urn:syncopate:event:${options.type}:${options.version}`,
  });
}

export interface CreateEventOptions {
  source: string;
  subject?: string;
  orderingKey?: string;
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
  /**
   * The trace context the event is made in (a request's, a handling attempt's `message.trace`): the
   * event gets a `create` span there, and every later hop of it joins that trace. Ignored when
   * `traceparent` is given.
   */
  trace?: Context;
  /** Defaults to a new UUIDv7. */
  id?: string;
  time?: Date;
}

/** Builds a validated envelope: data that does not match the declared schema never reaches a transport. */
export function createEvent<E extends EventType>(
  eventType: E,
  data: EventData<E>,
  options: CreateEventOptions,
): EventOf<E> {
  const parsed = eventType.schema.safeParse(data);
  if (!parsed.success) {
    throw new InvalidEventError(eventType.type, parsed.error);
  }
  const envelope = {
    specversion: '1.0',
    id: options.id ?? newEventId(),
    source: options.source,
    type: eventType.type,
    dataschema: eventType.dataschema,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data: parsed.data as EventData<E>,
  } as EventOf<E>;
  if (options.subject !== undefined) envelope.subject = options.subject;
  if (options.orderingKey !== undefined) envelope.orderingkey = options.orderingKey;
  if (options.correlationId !== undefined) envelope.correlationid = options.correlationId;
  if (options.causationId !== undefined) envelope.causationid = options.causationId;
  if (options.traceparent !== undefined) envelope.traceparent = options.traceparent;
  if (options.tracestate !== undefined) envelope.tracestate = options.tracestate;
  if (options.trace && !envelope.traceparent) traceCreation(envelope, options.trace);
  const size = Buffer.byteLength(encodeEnvelope(envelope));
  if (size > MAX_ENVELOPE_BYTES) {
    throw new InvalidEventError(eventType.type, `event is ${size} bytes, over the ${MAX_ENVELOPE_BYTES}-byte limit`);
  }
  return envelope;
}

/** Finds the declaration an incoming envelope claims to follow, among those a subscription accepts. */
export function declarationFor(envelope: Envelope, accepted: readonly EventType[]): EventType | undefined {
  return accepted.find((e) => e.type === envelope.type && e.dataschema === envelope.dataschema);
}

export type EventDataCheck =
  | { kind: 'accepted'; data: unknown }
  | { kind: 'undeclared'; reason: string }
  | { kind: 'invalid'; reason: string };

/** Whether an incoming envelope is one of `accepted`, and its data as that declaration parses it. */
export function checkEventData(envelope: Envelope, accepted: readonly EventType[]): EventDataCheck {
  const declaration = declarationFor(envelope, accepted);
  if (!declaration) {
    return {
      kind: 'undeclared',
      reason: `no declaration in this group accepts ${envelope.type} (${envelope.dataschema})`,
    };
  }
  const parsed = declaration.schema.safeParse(envelope.data);
  if (!parsed.success) {
    return { kind: 'invalid', reason: `invalid data for ${envelope.type}: ${formatZodError(parsed.error)}` };
  }
  return { kind: 'accepted', data: parsed.data };
}
