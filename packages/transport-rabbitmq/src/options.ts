import { InvalidTransportUrlError } from '@syncopate/messaging';
import { parseServerUrl } from '@syncopate/messaging/driver';

/** What an `amqp://` transport URL configures. */
export interface RabbitMqOptions {
  /** The AMQP URL handed to amqplib, without this transport's own parameters. */
  brokerUrl: string;
  /** Prefixes every exchange and queue, so several namespaces share one vhost. Default `syncopate`. */
  prefix: string;
  /** Published messages awaiting their broker confirm at once, across all publish calls. Default 1000. */
  window: number;
  /** Seconds between heartbeats; a peer silent for two of them is dead. Default 10. */
  heartbeat: number;
  /** How long a publish waits for a lost connection to come back before it rejects. Default 10 s. */
  reconnectWaitMs: number;
}

export const RABBITMQ_DEFAULTS = {
  prefix: 'syncopate',
  window: 1_000,
  heartbeat: 10,
  reconnectWaitMs: 10_000,
} as const;

const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * Parses `amqp[s]://user:pass@host:port/vhost?prefix=…&window=…&heartbeat=…&reconnectWait=…`.
 * Other query parameters (frameMax, channelMax, locale) go to amqplib untouched.
 */
export function parseRabbitMqUrl(url: string): RabbitMqOptions {
  const parsed = parseServerUrl(url, {
    schemes: ['amqp', 'amqps'],
    example: 'amqp://user:password@127.0.0.1:5672/vhost',
  });
  const params = parsed.searchParams;
  const prefix = params.get('prefix') ?? RABBITMQ_DEFAULTS.prefix;
  if (!PREFIX.test(prefix)) {
    throw new InvalidTransportUrlError(
      url,
      'prefix must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  const window = integer(url, params, 'window', RABBITMQ_DEFAULTS.window, 1, 100_000);
  const heartbeat = integer(url, params, 'heartbeat', RABBITMQ_DEFAULTS.heartbeat, 0, 3_600);
  const reconnectWaitMs = integer(url, params, 'reconnectWait', RABBITMQ_DEFAULTS.reconnectWaitMs, 0, 600_000);
  params.delete('prefix');
  params.delete('window');
  params.delete('reconnectWait');
  params.set('heartbeat', String(heartbeat));
  return { brokerUrl: parsed.toString(), prefix, window, heartbeat, reconnectWaitMs };
}

function integer(url: string, params: URLSearchParams, name: string, fallback: number, min: number, max: number) {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidTransportUrlError(url, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
