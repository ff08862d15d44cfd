import { InvalidTransportUrlError } from '@syncopate/messaging';

/** What a `nats://` URL says; defaults are written here once. */
export interface NatsUrlOptions {
  /** `host:port` entries; the client fails over between them and reconnects to them. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Names the main stream and prefixes every subject, consumer and stream this transport uses. Default `SYNCOPATE`. */
  stream: string;
  /** Copies of every stream on a JetStream cluster. Default 1. */
  replicas: number;
  /** How long the stream keeps an event, handled or not (limits retention). Default 168 h (7 days). */
  maxAgeHours: number;
}

const DEFAULT_STREAM = 'SYNCOPATE';
/** No "_" (it separates the helper streams' names) and no "." (it separates subject tokens). */
const STREAM_NAME = /^[A-Za-z0-9-]{1,64}$/;

/**
 * `nats://[user:pass@|token@]host[:port][,host:port…][?stream=NAME&replicas=1&maxAgeHours=168]`
 */
export function parseNatsUrl(url: string): NatsUrlOptions {
  const match = /^nats:\/\/([^?#]*)(?:\?([^#]*))?$/i.exec(url.trim());
  if (!match) throw new InvalidTransportUrlError(url, 'expected nats://host:port[?stream=NAME]');
  let location = match[1] ?? '';
  const params = new URLSearchParams(match[2] ?? '');
  const known = new Set(['stream', 'replicas', 'maxAgeHours']);
  for (const name of params.keys()) {
    if (!known.has(name)) {
      throw new InvalidTransportUrlError(url, `unknown option "${name}"; known: stream, replicas, maxAgeHours`);
    }
  }

  const options: NatsUrlOptions = { servers: [], stream: DEFAULT_STREAM, replicas: 1, maxAgeHours: 168 };
  const at = location.lastIndexOf('@');
  if (at >= 0) {
    const auth = location.slice(0, at);
    location = location.slice(at + 1);
    const colon = auth.indexOf(':');
    if (colon >= 0) {
      options.user = decodeURIComponent(auth.slice(0, colon));
      options.pass = decodeURIComponent(auth.slice(colon + 1));
    } else if (auth) {
      options.token = decodeURIComponent(auth);
    }
  }
  options.servers = location
    .replace(/\/+$/, '')
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server.length > 0)
    .map((server) => (server.includes(':') ? server : `${server}:4222`));
  if (options.servers.length === 0)
    throw new InvalidTransportUrlError(url, 'give a server, like nats://127.0.0.1:4222');

  const stream = params.get('stream');
  if (stream !== null) {
    if (!STREAM_NAME.test(stream)) {
      throw new InvalidTransportUrlError(url, 'stream must be 1-64 letters, digits or "-" (no "_" or ".")');
    }
    options.stream = stream;
  }
  const replicas = params.get('replicas');
  if (replicas !== null) {
    const value = Number(replicas);
    if (!Number.isInteger(value) || value < 1 || value > 5) {
      throw new InvalidTransportUrlError(url, 'replicas must be an integer from 1 to 5');
    }
    options.replicas = value;
  }
  const maxAge = params.get('maxAgeHours');
  if (maxAge !== null) {
    const value = Number(maxAge);
    if (!Number.isInteger(value) || value < 1 || value > 24 * 365) {
      throw new InvalidTransportUrlError(url, 'maxAgeHours must be an integer from 1 to 8760');
    }
    options.maxAgeHours = value;
  }
  return options;
}
