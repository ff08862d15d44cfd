import type { Envelope } from '@syncopate/messaging';

/**
 * The event as merchants see it, after Stripe's event object: the same JSON goes to webhook
 * endpoints and to live streams, so a merchant parses one shape whichever way it arrives.
 */
export interface EventObject {
  id: string;
  object: 'event';
  type: string;
  /** Unix seconds, as in Stripe's events. */
  created: number;
  data: { object: unknown };
}

export function toEventObject(envelope: Envelope): EventObject {
  return {
    id: envelope.id,
    object: 'event',
    type: envelope.type,
    created: Math.floor(Date.parse(envelope.time) / 1000),
    data: { object: envelope.data },
  };
}
