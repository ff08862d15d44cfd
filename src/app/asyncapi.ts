import { type EventType, envelopeSchema } from '@syncopate/messaging';
import { z } from 'zod';
import type { ServiceModule } from '../platform/service.js';

/** An AsyncAPI 3.0.0 document, as plain JSON. */
export type AsyncApiDocument = {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description?: string };
  defaultContentType: string;
  channels: Record<string, Channel>;
  operations: Record<string, JsonObject>;
  components: { schemas: Record<string, JsonObject>; messages: Record<string, JsonObject> };
};

type Channel = { address: string; title: string; description?: string; messages: Record<string, JsonObject> };

type JsonObject = Record<string, unknown>;

export const ENVELOPE_SCHEMA_ID = 'CloudEventEnvelope';
/** Structured-mode CloudEvents: every transport carries the whole envelope as the message body. */
export const EVENT_CONTENT_TYPE = 'application/cloudevents+json';

/** What each envelope attribute means; the envelope's zod schema gives the constraints. */
const ATTRIBUTE_DESCRIPTIONS: Record<string, string> = {
  specversion: 'The CloudEvents version: always 1.0.',
  id: 'The event id, a UUIDv7: unique per event, sortable by creation time. Consumers deduplicate on it.',
  source: 'The producer, as a URN: urn:syncopate:payments, urn:syncopate:reports.',
  type: 'The event type; names the channel.',
  dataschema: 'The schema version of `data`: urn:syncopate:event:<type>:<version>.',
  time: 'When the fact happened (RFC 3339).',
  subject: 'The resource the event is about, e.g. the payment id.',
  datacontenttype: 'The encoding of `data`: always application/json.',
  data: 'The event data; its schema is the one `dataschema` names.',
  traceparent: 'W3C trace context of the producer: a consumer span joins the producer trace.',
  tracestate: 'W3C trace state of the producer.',
  correlationid: 'Shared by every event of one business flow (one payment request).',
  causationid: 'The id of the event or request that caused this one.',
  orderingkey: 'Events with the same key are handled in publish order within a consumer group.',
};

export interface AsyncApiInfo {
  title: string;
  version: string;
  description?: string;
}

/**
 * The event API of a topology as AsyncAPI 3.0.0, generated from the event declarations: one channel
 * per event type, a `send` operation for each service that publishes it, a `receive` operation for
 * each consumer group bound to it, and each message's payload the CloudEvents envelope with `data`
 * described by the JSON Schema of the event's zod schema.
 */
export function buildAsyncApi(topology: readonly ServiceModule[], info: AsyncApiInfo): AsyncApiDocument {
  const events = eventsOf(topology);
  const channels: Record<string, Channel> = {};
  const messages: Record<string, JsonObject> = {};
  for (const event of events) {
    const key = messageKey(event);
    messages[key] = messageOf(event);
    const channel = channels[event.type] ?? { address: event.type, title: event.type, messages: {} };
    channels[event.type] = channel;
    channel.messages[key] = { $ref: `#/components/messages/${key}` };
    if (event.description) channel.description = event.description;
  }

  const operations: Record<string, JsonObject> = {};
  const operation = (action: 'send' | 'receive', event: EventType, fields: JsonObject) => ({
    action,
    channel: { $ref: `#/channels/${event.type}` },
    messages: [{ $ref: `#/channels/${event.type}/messages/${messageKey(event)}` }],
    ...fields,
  });
  for (const module of topology) {
    for (const event of module.publishes ?? []) {
      operations[`${module.name}.send.${event.type}`] = operation('send', event, {
        summary: `${module.name} publishes ${event.type}, through its outbox, after the transaction that recorded it commits`,
        tags: [{ name: module.name }],
      });
    }
    for (const { group, events: bound } of module.groups) {
      for (const event of bound) {
        operations[`${group}.receive.${event.type}`] = operation('receive', event, {
          summary: `Consumer group "${group}" (${module.name}) receives ${event.type}`,
          description:
            'Each event reaches every group bound to its type once, and within a group one consumer handles it (at least once: handlers are idempotent).',
          tags: [{ name: module.name }],
          'x-consumer-group': group,
        });
      }
    }
  }

  return {
    asyncapi: '3.0.0',
    info,
    defaultContentType: EVENT_CONTENT_TYPE,
    channels,
    operations,
    components: { schemas: { [ENVELOPE_SCHEMA_ID]: envelopeJsonSchema() }, messages },
  };
}

/** Every event type the topology publishes or consumes, each declaration once. */
export function eventsOf(topology: readonly ServiceModule[]): EventType[] {
  const seen = new Map<string, EventType>();
  for (const module of topology) {
    for (const event of [...(module.publishes ?? []), ...module.groups.flatMap((g) => g.events)]) {
      seen.set(event.dataschema, event);
    }
  }
  return [...seen.values()].sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);
}

function messageKey(event: EventType): string {
  return `${event.type}.v${event.version}`;
}

function messageOf(event: EventType): JsonObject {
  return {
    name: event.type,
    title: `${event.type} (version ${event.version})`,
    ...(event.description ? { summary: event.description } : {}),
    contentType: EVENT_CONTENT_TYPE,
    correlationId: {
      description: 'Every event of one business flow shares it.',
      location: '$message.payload#/correlationid',
    },
    payload: {
      allOf: [
        { $ref: `#/components/schemas/${ENVELOPE_SCHEMA_ID}` },
        {
          type: 'object',
          properties: {
            type: { const: event.type },
            dataschema: { const: event.dataschema },
            data: jsonSchemaOf(event.schema),
          },
        },
      ],
    },
    'x-dataschema': event.dataschema,
  };
}

/** The envelope as JSON Schema draft-07, which AsyncAPI schemas extend. */
function envelopeJsonSchema(): JsonObject {
  const schema = jsonSchemaOf(envelopeSchema) as { properties: Record<string, JsonObject> };
  for (const [name, property] of Object.entries(schema.properties)) {
    const description = ATTRIBUTE_DESCRIPTIONS[name];
    if (description) property.description = description;
  }
  return {
    ...schema,
    description:
      'A CloudEvents 1.0 event in structured mode (JSON): the attributes, the Syncopate extensions and `data`.',
  };
}

function jsonSchemaOf(schema: z.ZodType): JsonObject {
  // What a consumer accepts: the input of the schema it parses `data` with.
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: 'draft-07', io: 'input', unrepresentable: 'any' });
  return json;
}
