import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayModule } from '../../../src/services/gateway/gateway-service.js';
import { paymentsModule } from '../../../src/services/payments/index.js';
import { requireServer } from '../../support/availability.js';
import { dropSchemas, POSTGRES_PORT, POSTGRES_TEST_URL, postgresTestUrl } from '../../support/postgres.js';
import { expectOnePaymentAmong, paymentBody, startTestSystem, type TestSystem } from '../../support/system.js';

const PREFIX = `t_idem_${randomBytes(4).toString('hex')}_`;
const pgAvailable = await requireServer('PostgreSQL', POSTGRES_PORT);

/**
 * On PostgreSQL, concurrent requests really run at once (SQLite serializes the service's
 * transactions): the claim must still let exactly one of them charge.
 */
describe.runIf(pgAvailable)('idempotency with the services’ databases on PostgreSQL', () => {
  let t: TestSystem;
  let client: pg.Client;
  const count = async (sql: string, values: unknown[] = []) =>
    Number((await client.query<{ n: string }>(sql, values)).rows[0]?.n);

  beforeAll(async () => {
    t = await startTestSystem({
      modules: [gatewayModule, paymentsModule],
      env: { DATABASE_URL: postgresTestUrl(`schema_prefix=${PREFIX}`) },
    });
    client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await t?.stop();
    await dropSchemas({ prefix: PREFIX });
  });

  it('charges the gateway once for twenty concurrent requests with one key, and keeps one payment', async () => {
    // Five seconds in flight, so the twenty overlap however busy the machine; one payment either way.
    await t.setFaults('gateway', { latency: { fixedMs: 5_000 } });
    try {
      const k = `pg-concurrent-${process.pid}`;
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k })),
      );
      expectOnePaymentAmong(responses);
      expect(await count(`SELECT count(*) AS n FROM "${PREFIX}gateway".charges`)).toBe(1);
      expect(await count(`SELECT count(*) AS n FROM "${PREFIX}payments".payments`)).toBe(1);
      const replay = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k });
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(responses.find((r) => r.status === 201)?.body);
    } finally {
      await t.setFaults('gateway', {});
    }
  });

  it('refunds once at the gateway for twenty concurrent refund requests with one key', async () => {
    const payment = await t.api('POST', '/v1/payments', {
      body: paymentBody(),
      idempotencyKey: `pg-refund-${process.pid}`,
    });
    expect(payment.status).toBe(201);
    const { rows } = await client.query<{ id: string }>(
      `SELECT c.id FROM "${PREFIX}gateway".charges c
       JOIN "${PREFIX}payments".payments p ON p.gateway_key = c.idempotency_key WHERE p.id = $1`,
      [payment.body.id],
    );
    const chargeId = rows[0]?.id;
    expect(chargeId).toBeDefined();
    const refundKey = `pg-gateway-refund-${process.pid}`;
    // The gateway is internal: its own listener, its own key.
    const responses = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(`${t.system.internalUrl}/v1/charges/${chargeId}/refunds`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${t.system.secrets.gatewayKey}`,
            'idempotency-key': refundKey,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ amount: 500 }),
        });
        return { status: response.status, body: (await response.json()) as { id: string } };
      }),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM "${PREFIX}gateway".refunds`)).toBe(1);
    expect(await count(`SELECT amount_refunded AS n FROM "${PREFIX}gateway".charges WHERE id = $1`, [chargeId])).toBe(
      500,
    );
  });
});
