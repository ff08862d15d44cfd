import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNamespace, Names } from '@syncopate/transport-rabbitmq';
import amqp from 'amqplib';
import { afterAll } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { dropSchemas, requireServer } from '../support/availability.js';
import { deleteTestStreams, freshNatsUrl, NATS_PORT } from '../support/nats-namespaces.js';
import { BROKER } from '../support/rabbitmq-namespaces.js';

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
  if (await requireServer('PostgreSQL', 5432)) {
    // The services' schemas and the queue's in one database: payments writes its events as queue rows.
    const pg = 'postgres://postgres@127.0.0.1:5432/test';
    const prefix = `t_sys_${process.pid}_${randomBytes(3).toString('hex')}_`;
    let n = 0;
    let current = '';
    afterAll(() => dropSchemas(pg, prefix));
    transports.push([
      'postgres',
      () => {
        current = `${prefix}${n++}_`;
        return `${pg}?schema=${current}queue`;
      },
      () => `${pg}?schema_prefix=${current}`,
    ]);
  }
  if (await requireServer('NATS', NATS_PORT)) {
    afterAll(deleteTestStreams);
    transports.push(['nats', freshNatsUrl, undefined]);
  }
  if (await requireServer('RabbitMQ', 5672)) {
    const prefixes: string[] = [];
    afterAll(async () => {
      const groups = ALL_MODULES.flatMap((m) => m.groups.map((g) => g.group));
      const connection = await amqp.connect(BROKER);
      connection.on('error', () => {});
      for (const prefix of prefixes) await deleteNamespace(connection, new Names(prefix), groups);
      await connection.close();
    });
    transports.push([
      'rabbitmq',
      () => {
        const prefix = `syncopate-system-${process.pid}-${randomBytes(3).toString('hex')}`;
        prefixes.push(prefix);
        return `${BROKER}?prefix=${prefix}`;
      },
      undefined,
    ]);
  }
  return transports;
}
