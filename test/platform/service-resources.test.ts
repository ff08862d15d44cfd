import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openTransport } from '../../src/messaging/index.js';
import { OutboxTable } from '../../src/messaging/outbox/outbox-table.js';
import { PostgresQueueOutbox } from '../../src/messaging/transports/postgres/queue-outbox.js';
import { createLogger } from '../../src/platform/logger.js';
import { ServiceResources } from '../../src/platform/service-resources.js';
import { happened, TestHappened } from '../contract/events.js';
import { dropSchemas, requireServer } from '../support/availability.js';
import { waitFor } from '../support/wait.js';

const PG = 'postgres://postgres@127.0.0.1:5432/test';
const prefix = `t_res_${randomBytes(3).toString('hex')}_`;
const available = await requireServer('PostgreSQL', 5432);

describe.skipIf(!available)('service resources on PostgreSQL', () => {
  afterAll(() => dropSchemas(PG, prefix));

  it('writes events as queue rows in the service transaction when the transport shares its database', async () => {
    const config = {
      DATABASE_URL: `${PG}?schema_prefix=${prefix}`,
      TRANSPORT_URL: `${PG}?schema=${prefix}queue`,
      dataDir: '/tmp',
    };
    const transport = await openTransport(config.TRANSPORT_URL);
    const resources = new ServiceResources({ config, transport, logger: createLogger({ level: 'silent' }) });
    const db = await resources.database('payments', ['CREATE TABLE things (id TEXT PRIMARY KEY)']);
    const outbox = await resources.outbox('service', db);
    expect(outbox).toBeInstanceOf(PostgresQueueOutbox);

    const received: string[] = [];
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: ({ event }) => void received.push(event.id),
    });
    const kept = happened(1);
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO things (id) VALUES (?)', ['kept']);
      await outbox.append(tx, [kept]);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO things (id) VALUES (?)', ['rolled-back']);
        await outbox.append(tx, [happened(2)]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await waitFor('the committed event', () => received.length === 1);
    expect(received).toEqual([kept.id]);
    expect(await db.all('SELECT id FROM things')).toEqual([{ id: 'kept' }]);
    await resources.close();
    await transport.close();
  });

  it('keeps an outbox table and a relay when the transport is elsewhere', async () => {
    const config = { DATABASE_URL: `${PG}?schema_prefix=${prefix}other_`, TRANSPORT_URL: 'memory:', dataDir: '/tmp' };
    const transport = await openTransport(config.TRANSPORT_URL);
    const resources = new ServiceResources({ config, transport, logger: createLogger({ level: 'silent' }) });
    const db = await resources.database('reports', []);
    expect(await resources.outbox('service', db)).toBeInstanceOf(OutboxTable);
    await resources.close();
    await transport.close();
  });
});
