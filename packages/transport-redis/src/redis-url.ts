import { InvalidTransportUrlError } from '@syncopate/messaging';
import { parseServerUrl } from '@syncopate/messaging/driver';

/** What a `redis://` transport URL says, its defaults written once here. */
export interface RedisTransportOptions {
  /** The URL ioredis connects with: the given one without this transport's own parameters. */
  connectUrl: string;
  /** Every key of this transport starts with `{prefix}:`. Default `syncopate`. */
  prefix: string;
  /**
   * Replicas that must have a publish before it resolves (Redis `WAIT`). Default 0: the primary's
   * memory only, see the README on what that means for durability.
   */
  replicas: number;
  /** How long a publish waits for those replicas before it fails. Default 1000 ms. */
  replicaTimeoutMs: number;
}

const DEFAULTS = { prefix: 'syncopate', replicas: 0, replicaTimeoutMs: 1_000 };

/** Plain, so a namespace can be matched by a SCAN pattern and cannot break out of its `{…}` hash tag. */
const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;

const OWN_PARAMS = new Set(['prefix', 'replicas', 'replicaTimeout']);

/** `redis://[user:password@]host[:port][/db]?prefix=syncopate&replicas=0&replicaTimeout=1000` (or `rediss://` for TLS). */
export function parseRedisUrl(url: string): RedisTransportOptions {
  const parsed = parseServerUrl(url, {
    schemes: ['redis', 'rediss'],
    example: 'redis://127.0.0.1:6379[/db][?prefix=name]',
  });
  if (parsed.pathname && parsed.pathname !== '/' && !/^\/\d{1,2}$/.test(parsed.pathname)) {
    throw new InvalidTransportUrlError(url, 'the path may only be a database number, like redis://host:6379/2');
  }
  for (const name of parsed.searchParams.keys()) {
    if (!OWN_PARAMS.has(name)) {
      throw new InvalidTransportUrlError(url, `unknown parameter "${name}"; use prefix, replicas or replicaTimeout`);
    }
  }
  const prefix = parsed.searchParams.get('prefix') ?? DEFAULTS.prefix;
  if (!PREFIX.test(prefix)) {
    throw new InvalidTransportUrlError(url, 'prefix must be 1-64 letters, digits, "_", "." or "-"');
  }
  const options: RedisTransportOptions = {
    connectUrl: '',
    prefix,
    replicas: integerParam(url, parsed.searchParams, 'replicas', DEFAULTS.replicas, 0, 16),
    replicaTimeoutMs: integerParam(url, parsed.searchParams, 'replicaTimeout', DEFAULTS.replicaTimeoutMs, 1, 60_000),
  };
  for (const name of OWN_PARAMS) parsed.searchParams.delete(name);
  options.connectUrl = parsed.toString();
  return options;
}

function integerParam(url: string, params: URLSearchParams, name: string, fallback: number, min: number, max: number) {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidTransportUrlError(url, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
