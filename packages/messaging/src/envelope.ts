import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';

/**
 * The event envelope: CloudEvents 1.0 attributes, the data, and the extensions Syncopate relies on.
 * Extension names follow the CloudEvents rule (lower-case letters and digits only).
 */
export interface Envelope<T = unknown> {
  specversion: '1.0';
  /** UUIDv7: unique, and sortable by creation time. */
  id: string;
  source: string;
  type: string;
  /** Identifies the schema version of `data`, e.g. `urn:syncopate:event:payment.succeeded:1`. */
  dataschema: string;
  time: string;
  subject?: string;
  datacontenttype: 'application/json';
  data: T;
  /** W3C trace context of the producer, so a consumer's span joins the producer's trace. */
  traceparent?: string;
  tracestate?: string;
  /** The id shared by every event of one business flow (e.g. one payment request). */
  correlationid?: string;
  /** The id of the event (or request) that caused this one. */
  causationid?: string;
  /** Events with the same key are handled in publish order within a group. */
  orderingkey?: string;
}

export const MAX_ENVELOPE_BYTES = 256 * 1024;

const extensionValue = z.string().min(1).max(512);

/** Structural check for envelopes read back from a transport or a dead-letter queue. */
export const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(64),
  source: z.string().min(1).max(512),
  type: z.string().min(1).max(256),
  dataschema: z.string().min(1).max(512),
  time: z.string().min(1).max(64),
  subject: z.string().min(1).max(512).optional(),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  traceparent: z
    .string()
    .regex(/^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/)
    .optional(),
  tracestate: extensionValue.optional(),
  correlationid: extensionValue.optional(),
  causationid: extensionValue.optional(),
  orderingkey: extensionValue.optional(),
});

export function newEventId(): string {
  return uuidv7();
}

/** Serialized form stored by every transport: JSON, so any broker and any language can read it. */
export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelope);
}

export function decodeEnvelope(text: string): Envelope {
  return envelopeSchema.parse(JSON.parse(text)) as Envelope;
}
