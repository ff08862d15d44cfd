import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { paymentBody, startTestSystem, type TestSystem } from '../support/system.js';

const SYNC_EFFECT_TIMEOUT_MS = 5_000;

const receipts = (dataDir: string) => {
  const dir = join(dataDir, 'mail');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.eml')) : [];
};

describe('SIDE_EFFECTS=sync: the side effects called over HTTP before the answer', () => {
  let system: TestSystem | undefined;
  afterAll(() => system?.stop());

  it('answers only once email, analytics and notifications are done, and fails when one of them fails', async () => {
    system = await startTestSystem({
      modules: ALL_MODULES,
      // A call's timeout no answer reaches on a busy machine; only the latency the test adds passes it.
      env: { SIDE_EFFECTS: 'sync', SYNC_EFFECT_TIMEOUT_MS: String(SYNC_EFFECT_TIMEOUT_MS) },
    });
    const { api, dataDir } = system;
    const pay = () => api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });

    const paid = await pay();
    expect(paid.status).toBe(201);
    // Done before the answer: the receipt is written and the payment counted the moment the 201 arrives.
    expect(receipts(dataDir)).toHaveLength(1);
    const summary = await api('GET', '/v1/analytics/summary');
    expect(summary.status).toBe(200);
    expect(summary.body.totals[0].succeeded_count).toBe(1);
    const effects = await api('GET', `/v1/payments/${paid.body.id}/side_effects`);
    expect(effects.body.data).toEqual([]); // nothing was queued: there are no events to follow
    expect(system.audit).toHaveLength(0);

    // The request path runs through every side effect: the trace shows each call under the request.
    const trace = await api('GET', `/v1/traces/${paid.body.id}`);
    const spans = trace.body.spans as {
      spanId: string;
      parentSpanId: string | null;
      name: string;
      kind: string;
      attributes: Record<string, unknown>;
    }[];
    const root = spans.find((s) => s.name === 'POST /v1/payments');
    const called = spans
      .filter((s) => s.kind === 'server' && s.spanId !== root?.spanId)
      .map((s) => s.attributes['http.route']);
    expect(called).toEqual([
      '/v1/charges',
      '/v1/internal/effects/email',
      '/v1/internal/effects/analytics',
      '/v1/internal/effects/notifications',
    ]);

    // A failing email fails the request — after the charge: the textbook's warning, measured by the lab.
    await system.setFaults('email', { errorRate: 1 });
    const failed = await pay();
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('side_effect_failed');
    expect(failed.body.error.message).toMatch(/email failed/);
    const list = await api('GET', '/v1/payments?limit=1');
    expect(list.body.data[0].status).toBe('succeeded');
    expect(receipts(dataDir)).toHaveLength(1);

    // Down, or slower than the timeout, is the same to the client.
    await system.setFaults('email', { errorRate: 0, latency: { fixedMs: 12 * SYNC_EFFECT_TIMEOUT_MS } });
    const slow = await pay();
    expect(slow.status).toBe(502);
    expect(slow.body.error.message).toMatch(/email failed/);
  });

  it('serves the effect endpoints on the internal listener only, and refuses calls without the internal key', async () => {
    const answer = await system?.api('POST', '/v1/internal/effects/email', { body: {}, key: null });
    expect(answer?.status).toBe(404);
    const internal = await fetch(`${system?.system.internalUrl}/v1/internal/effects/email`, { method: 'POST' });
    expect(internal.status).toBe(401);
  });
});
