import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { requireServer } from '../support/availability.js';
import { deleteTestStreams, freshNatsUrl, NATS_PORT } from '../transports/nats/namespaces.js';

export type SystemTransport = [name: string, transportUrl: () => string, databaseUrl: (() => string) | undefined];

/**
 * The transports the system-level tests run on: a fresh TRANSPORT_URL each, and a DATABASE_URL
 * for the services (undefined: SQLite files). A broker that does not answer is left out, with a
 * one-line reason; under CI=true it fails the run.
 */
export async function systemTransports(): Promise<SystemTransport[]> {
  const dir = mkdtempSync(join(tmpdir(), 'syncopate-queue-'));
  const transports: SystemTransport[] = [
    ['sqlite', () => `sqlite:${join(dir, `queue-${randomBytes(4).toString('hex')}.db`)}`, undefined],
  ];
  if (await requireServer('NATS', NATS_PORT)) {
    afterAll(deleteTestStreams);
    transports.push(['nats', freshNatsUrl, undefined]);
  }
  return transports;
}
