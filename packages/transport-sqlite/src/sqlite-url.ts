import { InvalidTransportUrlError } from '@syncopate/messaging';
import type { Synchronous } from './open-sqlite.js';

/** What a `sqlite:` transport URL says: the driver's options. */
export interface SqliteUrlOptions {
  filename: string;
  synchronous: Synchronous;
  pollMs: number;
}

/** Defaults of a `sqlite:` transport URL, written once. */
export const SQLITE_DEFAULTS = { synchronous: 'full', pollMs: 25 } as const;

/**
 * Reads `sqlite:<file>[?synchronous=full|normal&poll=25]` (`sqlite://<file>` too). The file is
 * relative to the working directory unless absolute.
 */
export function parseSqliteUrl(url: string): SqliteUrlOptions {
  const match = /^sqlite:(?:\/\/)?([^?]*)(?:\?(.*))?$/i.exec(url.trim());
  if (!match) throw new InvalidTransportUrlError(url, 'expected sqlite:<file>, like sqlite:./data/syncopate.db');
  const filename = match[1] ?? '';
  if (!filename) throw new InvalidTransportUrlError(url, 'give a file path, like sqlite:./data/syncopate.db');
  const params = new URLSearchParams(match[2]);
  const synchronous = params.get('synchronous') ?? SQLITE_DEFAULTS.synchronous;
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new InvalidTransportUrlError(url, 'synchronous must be "full" or "normal"');
  }
  return { filename, synchronous, pollMs: integerParam(url, params, 'poll', SQLITE_DEFAULTS.pollMs, 1, 10_000) };
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
