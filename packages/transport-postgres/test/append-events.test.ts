import { openTransport, type Transport, UnroutableEventError } from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { delay, waitFor } from '../../../test/support/wait.js';
import { appendEvents } from '../src/index.js';
import '../src/register.js';
import { dropSchemas, POSTGRES_BASE_URL, POSTGRES_PORT, schemaNamer, urlFor } from './postgres-support.js';

const available = await requireServer('PostgreSQL', POSTGRES_PORT);
const schemas = schemaNamer('append');

describe.skipIf(!available)('postgres: events written in the service’s own transaction (outbox is the queue)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });
  afterAll(() => dropSchemas(schemas.created));

  /** A transport consuming group `g`, and a pool standing for the service with a `payments` table in the same schema. */
  async function setUp() {
    const schema = schemas.next();
    const transport: Transport = await openTransport(urlFor(schema));
    cleanup.push(() => transport.close({ deadlineMs: 1_000 }));
    const received: number[] = [];
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: ({ event }) => void received.push(event.data.n),
    });
    const pool = new pg.Pool({ connectionString: POSTGRES_BASE_URL, max: 2 });
    cleanup.push(() => pool.end());
    await pool.query(`CREATE TABLE "${schema}".payments (id text PRIMARY KEY)`);
    const inTransaction = async (work: (client: pg.PoolClient) => Promise<void>, outcome: 'COMMIT' | 'ROLLBACK') => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await work(client);
        await client.query(outcome);
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    };
    const payments = async () =>
      (await pool.query<{ id: string }>(`SELECT id FROM "${schema}".payments ORDER BY id`)).rows.map((r) => r.id);
    return { schema, received, inTransaction, payments };
  }

  it('delivers the event when the business row commits, and neither exists when it rolls back', async () => {
    const { schema, received, inTransaction, payments } = await setUp();
    for (const [n, outcome] of [
      [1, 'COMMIT'],
      [2, 'ROLLBACK'],
      [3, 'COMMIT'],
    ] as const) {
      await inTransaction(async (client) => {
        await client.query(`INSERT INTO "${schema}".payments (id) VALUES ($1)`, [`pay_${n}`]);
        await appendEvents(client, [happened(n, { key: `pay_${n}` })], { schema });
      }, outcome);
    }
    await waitFor('the committed events', () => received.length === 2);
    await delay(200);
    expect(received.sort()).toEqual([1, 3]);
    expect(await payments()).toEqual(['pay_1', 'pay_3']);
  });

  it('wakes consumers at commit with its transactional NOTIFY, not at their next poll', async () => {
    const schema = schemas.next();
    const transport = await openTransport(urlFor(schema, '&poll=60000'));
    cleanup.push(() => transport.close({ deadlineMs: 1_000 }));
    const received: number[] = [];
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: ({ event }) => void received.push(event.data.n),
    });
    // A connection of its own, as a service has: no in-process shortcut reaches the consumer.
    const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    await client.connect();
    cleanup.push(() => client.end());
    await client.query('BEGIN');
    await appendEvents(client, [happened(1)], { schema });
    await delay(300);
    expect(received).toEqual([]); // not visible before the commit
    await client.query('COMMIT');
    await waitFor('the event, long before a 60 s poll', () => received.length === 1, 2_000);
  });

  it('rejects a batch with an unroutable event having written none of it, so the transaction can roll back cleanly', async () => {
    const { schema, received, inTransaction, payments } = await setUp();
    const stray = { ...happened(2), type: 'test.stray' };
    await expect(
      inTransaction(async (client) => {
        await client.query(`INSERT INTO "${schema}".payments (id) VALUES ('pay_1')`);
        await appendEvents(client, [happened(1), stray], { schema });
      }, 'COMMIT'),
    ).rejects.toBeInstanceOf(UnroutableEventError);
    expect(await payments()).toEqual([]);
    await inTransaction((client) => appendEvents(client, [happened(3)], { schema }), 'COMMIT');
    await waitFor('the later event', () => received.length === 1);
    await delay(100);
    expect(received).toEqual([3]);
  });
});
