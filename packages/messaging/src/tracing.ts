import {
  type Attributes,
  type Context,
  INVALID_TRACEID,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Envelope } from './envelope.js';

/**
 * The toolkit's spans, through the OpenTelemetry API only: without an SDK registered they cost
 * next to nothing. Names and attributes follow the messaging semantic conventions (the `create`,
 * `send` and `process` operations), plus the CloudEvents ones for the envelope.
 *
 * Trace context is passed explicitly (`CreateEventOptions.trace`, `Message.trace`), never taken
 * from an "active" context: on Node 20 the AsyncLocalStorage behind one hooks every promise of
 * the process, and going without it saved about a tenth of a payment's CPU (BENCHMARKS.md).
 */
const tracer = trace.getTracer('syncopate.messaging');

/** Attribute names from the (still incubating) semantic conventions, copied as their docs advise. */
export const MessagingAttributes = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  consumerGroup: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  batchCount: 'messaging.batch.message_count',
  eventId: 'cloudevents.event_id',
  eventType: 'cloudevents.event_type',
  eventSubject: 'cloudevents.event_subject',
  eventSource: 'cloudevents.event_source',
  /** Ours: which delivery of the message this attempt is (1 = first). */
  attempt: 'syncopate.attempt',
  /** Ours: ack, retry, dead-letter or release. */
  outcome: 'syncopate.outcome',
} as const;

function envelopeAttributes(event: Envelope): Attributes {
  const attributes: Attributes = {
    [MessagingAttributes.destination]: event.type,
    [MessagingAttributes.messageId]: event.id,
    [MessagingAttributes.eventId]: event.id,
    [MessagingAttributes.eventType]: event.type,
    [MessagingAttributes.eventSource]: event.source,
  };
  if (event.subject) attributes[MessagingAttributes.eventSubject] = event.subject;
  if (event.correlationid) attributes[MessagingAttributes.conversationId] = event.correlationid;
  return attributes;
}

/** The producer's context as carried by the envelope (W3C trace context), or none. */
export function contextOf(event: Pick<Envelope, 'traceparent' | 'tracestate'>): Context {
  if (!event.traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent: event.traceparent };
  if (event.tracestate) carrier.tracestate = event.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * A `create` span for a new event, child of `parent` (the request that made it), whose context the
 * envelope then carries: every later hop of the event joins this trace. Nothing without a trace.
 */
export function traceCreation(event: Envelope, parent: Context): void {
  if (!trace.getSpan(parent)) return;
  const span = tracer.startSpan(
    `create ${event.type}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...envelopeAttributes(event),
        [MessagingAttributes.operationType]: 'create',
        [MessagingAttributes.operationName]: 'create',
      },
    },
    parent,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), carrier);
  if (carrier.traceparent) event.traceparent = carrier.traceparent;
  if (carrier.tracestate) event.tracestate = carrier.tracestate;
  span.end();
}

/**
 * One `send` span per traced event, in the event's own trace, spanning the transport's publish of
 * the batch it went in: the moment the queue had it, seen from the payment's trace.
 */
export async function traceSend(system: string, events: readonly Envelope[], send: () => Promise<void>): Promise<void> {
  const traced = events.filter((event) => event.traceparent);
  if (traced.length === 0) return send();
  const spans = traced.map((event) =>
    tracer.startSpan(
      `send ${event.type}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...envelopeAttributes(event),
          [MessagingAttributes.system]: system,
          [MessagingAttributes.operationType]: 'send',
          [MessagingAttributes.operationName]: 'send',
          [MessagingAttributes.batchCount]: events.length,
        },
      },
      contextOf(event),
    ),
  );
  try {
    await send();
  } catch (error) {
    for (const span of spans) failed(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

/** A `process` span for one handling attempt, child of the event's producer context. */
export function startProcessSpan(system: string, group: string, event: Envelope, attempt: number): Span {
  const span = tracer.startSpan(`process ${event.type}`, { kind: SpanKind.CONSUMER }, contextOf(event));
  // Attributes only for a span that is recorded: with no SDK (or not sampled) this is the hot path.
  if (span.isRecording()) {
    span.setAttributes({
      ...envelopeAttributes(event),
      [MessagingAttributes.system]: system,
      [MessagingAttributes.operationType]: 'process',
      [MessagingAttributes.operationName]: 'process',
      [MessagingAttributes.consumerGroup]: group,
      [MessagingAttributes.attempt]: attempt,
    });
  }
  return span;
}

export function failed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (error instanceof Error) span.recordException(error);
}

/**
 * A context holding `span`, for what is done on its behalf (a handler's `message.trace`, a
 * request's calls). A span with no trace (no SDK registered) would be no one's parent, so no
 * context is made for it: a new context per message was a measurable share of a consumer's CPU.
 */
export function contextOfSpan(span: Span): Context {
  return span.spanContext().traceId === INVALID_TRACEID ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, span);
}
