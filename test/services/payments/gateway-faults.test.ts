import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayModule } from '../../../src/services/gateway/gateway-service.js';
import { paymentsModule } from '../../../src/services/payments/index.js';
import { paymentBody, startTestSystem, TEST_ADMIN_KEY, type TestSystem } from '../../support/system.js';
import { waitFor } from '../../support/wait.js';

let n = 0;
const key = () => `fault-key-${process.pid}-${n++}`;

describe('payments when the gateway misbehaves', () => {
  let t: TestSystem;
  let gatewayDb: Database.Database;
  const charges = () => gatewayDb.prepare('SELECT count(*) FROM charges').pluck().get() as number;
  const pay = (idempotencyKey = key()) => t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey });

  beforeAll(async () => {
    t = await startTestSystem({
      modules: [gatewayModule, paymentsModule],
      env: { GATEWAY_TIMEOUT_MS: '300', GATEWAY_BREAKER_COOLDOWN_MS: '1000', RECONCILE_INTERVAL_MS: '100' },
    });
    gatewayDb = new Database(join(t.dataDir, 'gateway.db'), { readonly: true });
  });
  afterEach(async () => {
    await t.setFaults('gateway', {});
    // Let a breaker opened by the test close again before the next one.
    await waitFor('a closed breaker', async () => (await pay()).status === 201, 10_000);
  });
  afterAll(async () => {
    gatewayDb?.close();
    await t?.stop();
  });

  it('answers 503 with Retry-After when the gateway is down, charges nothing, and the same key works once it is back', async () => {
    await t.setFaults('gateway', { down: true });
    const before = charges();
    const k = key();
    const down = await pay(k);
    expect(down.status).toBe(503);
    expect(down.body.error).toMatchObject({ type: 'api_error', code: 'gateway_unavailable' });
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(charges()).toBe(before);
    expect(
      (await t.api('GET', '/v1/payments?limit=100')).body.data.some(
        (p: { status: string }) => p.status === 'processing',
      ),
    ).toBe(false);

    await t.setFaults('gateway', {});
    await waitFor('the breaker to let calls through', async () => {
      const retried = await pay(k);
      return retried.status === 201 ? retried : undefined;
    });
    expect(charges()).toBe(before + 1);
  });

  it('still confirms when the gateway is slow but within the timeout', async () => {
    await t.setFaults('gateway', { latency: { fixedMs: 150 } });
    const started = performance.now();
    const response = await pay();
    expect(response.status).toBe(201);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('retries a transient gateway error with the same key, charging once', async () => {
    // The next two gateway calls fail; the client's third attempt, same key, gets through.
    await t.setFaults('gateway', { failNext: 2 });
    const before = charges();
    const response = await pay();
    expect(response.status).toBe(201);
    expect(charges()).toBe(before + 1);
    const faults = await t.api('GET', '/v1/admin/faults', { key: TEST_ADMIN_KEY });
    expect(faults.body.data.find((f: { service: string }) => f.service === 'gateway').failNext).toBe(0);
  });

  it('leaves a timed-out payment processing (202), and the reconciler settles it and publishes its event', async () => {
    await t.setFaults('gateway', { timeoutRate: 1, hangMs: 2_000 });
    const response = await pay();
    expect(response.status).toBe(202);
    expect(response.body.status).toBe('processing');
    const id = response.body.id;
    await t.setFaults('gateway', {});
    const settled = await waitFor('the reconciler', async () => {
      const read = await t.api('GET', `/v1/payments/${id}`);
      return read.body.status === 'succeeded' ? read.body : undefined;
    });
    expect(settled.card.brand).toBe('visa');
    await waitFor('its payment.succeeded event', () =>
      t.audit.find((e) => e.subject === id && e.type === 'payment.succeeded'),
    );
  });

  it('opens the circuit breaker after repeated failures (fast 503s), then closes it once the gateway recovers', async () => {
    await t.setFaults('gateway', { errorRate: 1 });
    for (let i = 0; i < 2; i++) expect((await pay()).status).toBe(503);
    const before = charges();
    const started = performance.now();
    const fast = await pay();
    expect(fast.status).toBe(503);
    expect(fast.body.error.message).toMatch(/circuit breaker is open/);
    expect(performance.now() - started).toBeLessThan(200);
    expect(charges()).toBe(before);
    await t.setFaults('gateway', {});
    const recovered = await waitFor(
      'the breaker to close',
      async () => {
        const r = await pay();
        return r.status === 201 ? r : undefined;
      },
      5_000,
    );
    expect(recovered.body.status).toBe('succeeded');
  });
});
