import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The transports the system-level tests run on: [name, a fresh TRANSPORT_URL, a DATABASE_URL or
 * undefined for SQLite files]. Brokers join as their transports land.
 */
export async function scaleOutTransports(): Promise<[string, () => string, (() => string) | undefined][]> {
  const dir = mkdtempSync(join(tmpdir(), 'syncopate-queue-'));
  return [['sqlite', () => `sqlite:${join(dir, `queue-${randomBytes(4).toString('hex')}.db`)}`, undefined]];
}
