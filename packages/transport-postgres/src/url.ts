import { InvalidTransportUrlError } from '@syncopate/messaging';
import { isSchemaName } from './schema.js';

export type NotifyMode = 'commit' | 'after' | 'off';

/** What a `postgres://` transport URL configures; defaults are written once, here. */
export interface PostgresUrlOptions {
  /** The URL handed to `pg`, without the transport's own parameters. */
  connectionString: string;
  /** Schema holding the queue tables; one schema is one isolated namespace. Default `syncopate`. */
  schema: string;
  /**
   * Connections in each of the two pools (publishes and admin; consumers' bookkeeping), opened as
   * needed; the listener has one more. Default 10.
   */
  poolSize: number;
  /** How often an idle consumer looks for work when no notification came. Default 1000 ms. */
  pollMs: number;
  /** How publishes wake consumers in other processes (see README). Default `after`. */
  notify: NotifyMode;
}

export const POSTGRES_DEFAULTS = { schema: 'syncopate', poolSize: 10, pollMs: 1_000, notify: 'after' } as const;

const NOTIFY_MODES: readonly NotifyMode[] = ['commit', 'after', 'off'];

export function parsePostgresUrl(url: string): PostgresUrlOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidTransportUrlError(url, 'expected postgres://user@host:5432/database?schema=syncopate');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InvalidTransportUrlError(url, 'the scheme must be postgres:// or postgresql://');
  }
  const params = parsed.searchParams;
  const take = (name: string) => {
    const value = params.get(name);
    params.delete(name);
    return value;
  };
  const schema = take('schema') ?? POSTGRES_DEFAULTS.schema;
  if (!isSchemaName(schema)) {
    throw new InvalidTransportUrlError(
      url,
      'schema must be 1-48 lower-case letters, digits or "_", not starting with a digit',
    );
  }
  const notify = take('notify') ?? POSTGRES_DEFAULTS.notify;
  if (!NOTIFY_MODES.includes(notify as NotifyMode)) {
    throw new InvalidTransportUrlError(url, `notify must be one of ${NOTIFY_MODES.join(', ')}`);
  }
  return {
    schema,
    notify: notify as NotifyMode,
    poolSize: integer(url, 'pool', take('pool'), POSTGRES_DEFAULTS.poolSize, 1, 100),
    pollMs: integer(url, 'poll', take('poll'), POSTGRES_DEFAULTS.pollMs, 1, 60_000),
    connectionString: parsed.toString(),
  };
}

function integer(url: string, name: string, raw: string | null, fallback: number, min: number, max: number): number {
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidTransportUrlError(url, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
