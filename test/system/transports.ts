import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { requireServer } from '../support/availability.js';
import { deleteTestStreams, freshNatsUrl, NATS_PORT } from '../support/nats-namespaces.js';
import { dropSchemas, POSTGRES_PORT, postgresTestUrl } from '../support/postgres.js';
import { deleteRabbitMqNamespaces, RABBITMQ_PORT, RABBITMQ_TEST_URL } from '../support/rabbitmq-namespaces.js';

/** Every consumer group of the whole system: what a system test's namespace can hold. */
export const ALL_GROUPS = ALL_MODULES.flatMap((m) => m.groups.map((g) => g.group));

export type SystemTransport = [name: string, transportUrl: () => string, databaseUrl: (() => string) | undefined];

/**
 * The transports the system-level tests run on: a fresh TRANSPORT_URL each, and a DATABASE_URL
 * for the services (undefined: SQLite files). A broker that does not answer is left out, with a
 * one-line reason; in CI it fails the run.
 */
export async function systemTransports(): Promise<SystemTransport[]> {
  const dir = mkdtempSync(join(tmpdir(), 'syncopate-queue-'));
  const transports: SystemTransport[] = [
    ['sqlite', () => `sqlite:${join(dir, `queue-${randomBytes(4).toString('hex')}.db`)}`, undefined],
  ];
  if (await requireServer('PostgreSQL', POSTGRES_PORT)) {
    // The services' schemas and the queue's in one database: payments writes its events as queue rows.
    const prefix = `t_sys_${process.pid}_${randomBytes(3).toString('hex')}_`;
    let n = 0;
    let current = '';
    afterAll(() => dropSchemas({ prefix }));
    transports.push([
      'postgres',
      () => {
        current = `${prefix}${n++}_`;
        return postgresTestUrl(`schema=${current}queue`);
      },
      () => postgresTestUrl(`schema_prefix=${current}`),
    ]);
  }
  if (await requireServer('NATS', NATS_PORT)) {
    afterAll(deleteTestStreams);
    transports.push(['nats', freshNatsUrl, undefined]);
  }
  if (await requireServer('RabbitMQ', RABBITMQ_PORT)) {
    const prefixes: string[] = [];
    afterAll(() => deleteRabbitMqNamespaces(prefixes, ALL_GROUPS));
    transports.push([
      'rabbitmq',
      () => {
        const prefix = `syncopate-system-${process.pid}-${randomBytes(3).toString('hex')}`;
        prefixes.push(prefix);
        return `${RABBITMQ_TEST_URL}?prefix=${prefix}`;
      },
      undefined,
    ]);
  }
  return transports;
}
