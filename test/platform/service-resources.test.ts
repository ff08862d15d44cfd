import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxTable, openTransport } from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import { PostgresQueueOutbox } from '@syncopate/transport-postgres';
import { SqliteQueueOutbox } from '@syncopate/transport-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { ServiceResources } from '../../src/platform/service-resources.js';
import { dropSchemas, requireServer } from '../support/availability.js';
import { waitFor } from '../support/wait.js';
import '../../src/app/transports.js';

const PG = 'postgres://postgres@127.0.0.1:5432/test';

describe('service resources on the embedded SQLite transport', () => {
  it("keeps a publishing service's tables in the queue's file: its events are queue rows of its own transactions", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'syncopate-resources-'));
    const config = { TRANSPORT_URL: `sqlite:${join(dataDir, 'queue.db')}`, dataDir };
    const transport = await openTransport(config.TRANSPORT_URL);
    const resources = new ServiceResources({ config, transport, logger: createLogger({ level: 'silent' }) });
    const db = await resources.database('payments', ['CREATE TABLE things (id TEXT PRIMARY KEY)'], {
      publishesEvents: true,
    });
    expect(db.location).toBe(join(dataDir, 'queue.db'));
    const outbox = await resources.outbox('payments', db);
    expect(outbox).toBeInstanceOf(SqliteQueueOutbox);
    expect(resources.relaysRunning).toBeUndefined();
    // A service that publishes nothing keeps a file of its own.
    expect((await resources.database('email', [])).location).toBe(join(dataDir, 'email.db'));

    const received: string[] = [];
    const errors: unknown[] = [];
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      concurrency: 8,
      handler: ({ event }) => void received.push(event.id),
      hooks: { onError: (error) => errors.push(error) },
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO things (id) VALUES (?)', ['rolled-back']);
        await outbox.append(tx, [happened(0)]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    // Many transactions while the consumer claims and acks on its own connections to the same
    // file, in this process, and one transaction holds the write lock across timers: the
    // consumer's writes wait for the group commit instead of hitting the lock (SQLITE_BUSY).
    const kept = Array.from({ length: 300 }, (_, i) => happened(i + 1));
    await Promise.all(
      kept.map((event, i) =>
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO things (id) VALUES (?)', [`kept-${i}`]);
          await outbox.append(tx, [event]);
          if (i % 100 === 50) await new Promise((resolve) => setTimeout(resolve, 30));
        }),
      ),
    );
    await waitFor('every committed event', () => received.length >= kept.length);
    expect(received.sort()).toEqual(kept.map((e) => e.id).sort());
    expect(errors).toEqual([]);
    expect(await db.get('SELECT count(*) AS n FROM things')).toEqual({ n: 300 });
    await resources.close();
    await transport.close();
  });
});
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
    // A relay that has not started yet is not running: readiness says so.
    expect(resources.relaysRunning).toBe(false);
    resources.startRelays();
    expect(resources.relaysRunning).toBe(true);
    await resources.close();
    await transport.close();
  });
});
