import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayModule } from '../../../src/services/gateway/gateway-service.js';
import { paymentsModule } from '../../../src/services/payments/index.js';
import { scrape, sumOf } from '../../support/metrics.js';
import { paymentBody, startTestSystem, TEST_ADMIN_KEY, type TestSystem } from '../../support/system.js';
import { waitFor } from '../../support/wait.js';

let n = 0;
const key = () => `fault-key-${process.pid}-${n++}`;

/**
 * A gateway attempt's timeout far above what an answer takes on a busy machine: only a hang the
 * test asks for (far longer still) times out, so nothing here depends on how fast the machine is.
 * (The timed-out payment is reconciled after twice this: that test takes about fifteen seconds.)
 */
const GATEWAY_TIMEOUT_MS = 5_000;

describe('payments when the gateway misbehaves', () => {
  let t: TestSystem;
  let gatewayDb: Database.Database;
  const charges = () => gatewayDb.prepare('SELECT count(*) FROM charges').pluck().get() as number;
  const pay = (idempotencyKey = key()) => t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey });
  /** Charge requests the gateway received (every status), counted by its own HTTP metrics: it runs in this process. */
  const chargeRequests = async () =>
    sumOf(await scrape(t.url), 'http_server_request_duration_seconds_count{method="POST",route="/v1/charges",');

  beforeAll(async () => {
    t = await startTestSystem({
      modules: [gatewayModule, paymentsModule],
      env: {
        GATEWAY_TIMEOUT_MS: String(GATEWAY_TIMEOUT_MS),
        GATEWAY_BREAKER_COOLDOWN_MS: '1000',
        RECONCILE_INTERVAL_MS: '100',
      },
    });
    gatewayDb = new Database(join(t.dataDir, 'gateway.db'), { readonly: true });
  });
  afterEach(async () => {
    await t.setFaults('gateway', {});
    // Let a breaker opened by the test close again before the next one.
    await waitFor('a closed breaker', async () => (await pay()).status === 201);
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
    // A lower bound only (the added latency was waited), which no load can break.
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('retries a gateway that failed after charging with the same key: one charge, whatever the attempts', async () => {
    // The next two charge requests are stored, then answered 500: the client cannot know they were
    // charged. Its retries must carry the same key, so the gateway answers the stored charge again.
    await t.setFaults('gateway', { failNextAfterWork: 2 });
    const [chargesBefore, requestsBefore] = [charges(), await chargeRequests()];
    const response = await pay();
    expect(response.status).toBe(201);
    expect(await chargeRequests()).toBe(requestsBefore + 3);
    expect(charges()).toBe(chargesBefore + 1);
    const faults = await t.api('GET', '/v1/admin/faults', { key: TEST_ADMIN_KEY });
    expect(faults.body.data.find((f: { service: string }) => f.service === 'gateway').failNextAfterWork).toBe(0);
  });

  it('leaves a timed-out payment processing (202), and the reconciler settles it and publishes its event', async () => {
    // The charge is stored, and its answer held back far past the timeout: always a timeout.
    await t.setFaults('gateway', { timeoutRate: 1, hangMs: 12 * GATEWAY_TIMEOUT_MS });
    const response = await pay();
    expect(response.status).toBe(202);
    expect(response.body.status).toBe('processing');
    const id = response.body.id;
    await t.setFaults('gateway', {});
    const settled = await waitFor(
      'the reconciler',
      async () => {
        const read = await t.api('GET', `/v1/payments/${id}`);
        return read.body.status === 'succeeded' ? read.body : undefined;
      },
      2 * GATEWAY_TIMEOUT_MS + 30_000,
    );
    expect(settled.card.brand).toBe('visa');
    await waitFor('its payment.succeeded event', () =>
      t.audit.find((e) => e.subject === id && e.type === 'payment.succeeded'),
    );
  });

  it('opens the circuit breaker after repeated failures (503s without calling the gateway), then closes it once the gateway recovers', async () => {
    await t.setFaults('gateway', { errorRate: 1 });
    for (let i = 0; i < 2; i++) expect((await pay()).status).toBe(503);
    // While it is open, a payment is refused without a request to the gateway. (Should the machine
    // stall past the cooldown, the breaker lets one trial call through and opens again: ask again.)
    const refused = await waitFor('a payment refused by the open breaker, the gateway untouched', async () => {
      const [before, chargesBefore] = [await chargeRequests(), charges()];
      const response = await pay();
      expect(response.status).toBe(503);
      const untouched = (await chargeRequests()) === before && charges() === chargesBefore;
      return /circuit breaker is open/.test(response.body.error.message) && untouched ? response : undefined;
    });
    expect(refused.body.error).toMatchObject({ type: 'api_error', code: 'gateway_unavailable' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await t.setFaults('gateway', {});
    const recovered = await waitFor('the breaker to close', async () => {
      const r = await pay();
      return r.status === 201 ? r : undefined;
    });
    expect(recovered.body.status).toBe('succeeded');
  });
});
