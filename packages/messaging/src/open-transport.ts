import { DrivenTransport } from './driven-transport.js';
import { InvalidTransportUrlError } from './errors.js';
import type { Transport, TransportDriver } from './transport.js';

/**
 * Opens a transport from its URL (the `TRANSPORT_URL` setting):
 * - `sqlite:./data/syncopate.db` (the default), options `?synchronous=full|normal&poll=25`
 * - `memory:` (a fresh in-process queue) or `memory:name` (shared by that name within the process)
 * - `postgres://…`, `amqp://…`, `nats://…`, `redis://…`: see each transport's folder
 * A backend's module is loaded only when its scheme is used.
 */
export async function openTransport(url: string): Promise<Transport> {
  return new DrivenTransport(await openDriver(url));
}

export async function openDriver(url: string): Promise<TransportDriver> {
  const { scheme, path, params } = splitUrl(url);
  switch (scheme) {
    case 'memory': {
      const { MemoryDriver } = await import('./memory-driver.js');
      return new MemoryDriver(path || undefined);
    }
    case 'sqlite': {
      if (!path) throw new InvalidTransportUrlError(url, 'give a file path, like sqlite:./data/syncopate.db');
      const synchronous = params.get('synchronous') ?? 'full';
      if (synchronous !== 'full' && synchronous !== 'normal') {
        throw new InvalidTransportUrlError(url, 'synchronous must be "full" or "normal"');
      }
      const { SqliteDriver } = await import('../../transport-sqlite/src/sqlite-driver.js');
      return new SqliteDriver({
        filename: path,
        synchronous,
        pollMs: integerParam(url, params, 'poll', 25, 1, 10_000),
      });
    }
    case 'postgres':
    case 'postgresql': {
      const { openPostgresDriver } = await import('../../transport-postgres/src/postgres-driver.js');
      return openPostgresDriver(url);
    }
    case 'amqp':
    case 'amqps': {
      const { openRabbitMqDriver } = await import('../../transport-rabbitmq/src/rabbitmq-driver.js');
      return openRabbitMqDriver(url);
    }
    case 'nats': {
      const { openNatsDriver } = await import('../../transport-nats/src/nats-driver.js');
      return openNatsDriver(url);
    }
    case 'redis':
    case 'rediss': {
      const { openRedisDriver } = await import('../../transport-redis/src/redis-driver.js');
      return openRedisDriver(url);
    }
    default:
      throw new InvalidTransportUrlError(
        url,
        `unknown scheme "${scheme}"; use sqlite:, memory:, postgres://, amqp://, nats:// or redis://`,
      );
  }
}

/** The database file of a `sqlite:` transport URL, or undefined for any other transport. */
export function sqliteFileOf(url: string): string | undefined {
  const { scheme, path } = splitUrl(url);
  return scheme === 'sqlite' && path ? path : undefined;
}

function splitUrl(url: string): { scheme: string; path: string; params: URLSearchParams } {
  const match = /^([a-z][a-z0-9+.-]*):(?:\/\/)?([^?]*)(?:\?(.*))?$/i.exec(url.trim());
  if (!match) throw new InvalidTransportUrlError(url, 'expected <scheme>:<location>, like sqlite:./data/syncopate.db');
  return { scheme: (match[1] as string).toLowerCase(), path: match[2] ?? '', params: new URLSearchParams(match[3]) };
}

function integerParam(url: string, params: URLSearchParams, name: string, fallback: number, min: number, max: number) {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidTransportUrlError(url, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
