import type { Msg } from '@nats-io/transport-node';

/** What JetStream's ack subject says about one delivery. */
export interface DeliveryInfo {
  consumer: string;
  /** How many times the server has delivered this message to the consumer, this time included. */
  deliveryCount: number;
  streamSequence: number;
  /** The consumer's own sequence for this delivery: never reused. */
  deliverySequence: number;
  /** When the stream stored the message (epoch ms). */
  storedAt: number;
}

/**
 * Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` and the v2 form
 * with `<domain>.<account hash>` after `ACK` (and a random token at the end).
 */
export function deliveryInfo(reply: string): DeliveryInfo {
  const tokens = reply.split('.');
  const base = tokens.length === 9 ? 2 : 4;
  return {
    consumer: tokens[base + 1] ?? '',
    deliveryCount: Number(tokens[base + 2]),
    streamSequence: Number(tokens[base + 3]),
    deliverySequence: Number(tokens[base + 4]),
    storedAt: Number(BigInt(tokens[base + 5] ?? '0') / 1_000_000n),
  };
}

/**
 * The ack protocol is one small message per delivery, written into the connection's buffer; the
 * client flushes them together, so a batch of acks costs one write, not one round trip each.
 */
export const ackProtocol = {
  ack: (msg: Msg) => msg.respond('+ACK'),
  /** Redeliver after `delayMs` (0: at once). */
  nak: (msg: Msg, delayMs: number) =>
    msg.respond(delayMs > 0 ? `-NAK ${JSON.stringify({ delay: Math.round(delayMs) * 1_000_000 })}` : '-NAK'),
  /** Restarts the consumer's ack_wait for this delivery: the lease extension. */
  working: (msg: Msg) => msg.respond('+WPI'),
  /** Never redeliver: used once the message is safely in the dead-letter stream. */
  term: (msg: Msg) => msg.respond('+TERM'),
};
