import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import type { ServiceModule } from '../../src/platform/service.js';
import { createEmailService, emailModule } from '../../src/services/email/index.js';
import { requireServer } from '../support/availability.js';
import { REDIS_PORT, redisNamespaces } from '../support/redis-namespaces.js';
import { paymentBody, startTestSystem, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { type SystemTransport, systemTransports } from '../system/transports.js';

interface SideEffect {
  event_id: string;
  event_type: string;
  group: string;
  state: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
}

const transports: SystemTransport[] = await systemTransports();
if (await requireServer('Redis', REDIS_PORT)) {
  const namespaces = redisNamespaces('side-effects');
  afterAll(() => namespaces.cleanUp());
  transports.push(['redis', () => namespaces.fresh().url, undefined]);
}

/**
 * Email gives up after three attempts, so a dead letter comes within a few seconds. The delays
 * are long enough for the API to be seen answering `retrying` in between: with full jitter, a
 * ceiling of 20-50 ms (as this once was) left windows a poll under load could miss entirely.
 */
const quickEmail: ServiceModule = {
  ...emailModule,
  create: (context) =>
    createEmailService(context, { maxAttempts: 3, backoff: { initialDelayMs: 2_000, maxDelayMs: 2_000 } }),
};
const modules = ALL_MODULES.map((module) => (module.name === 'email' ? quickEmail : module));

describe.each(transports)('where side effects stand, on %s', (_name, transportUrl, databaseUrl) => {
  let system: TestSystem | undefined;
  afterAll(() => system?.stop());

  it('pending, then retrying with the error and the next attempt, dead-lettered, replayed, delivered', async () => {
    system = await startTestSystem({
      modules,
      env: { TRANSPORT_URL: transportUrl(), ...(databaseUrl ? { DATABASE_URL: databaseUrl() } : {}) },
    });
    const api = system.api;
    const sideEffects = async (id: string) => {
      const response = await api<{ data: SideEffect[] }>('GET', `/v1/payments/${id}/side_effects`);
      expect(response.status).toBe(200);
      return response.body.data;
    };
    const email = async (id: string) => (await sideEffects(id)).find((e) => e.group === 'email') as SideEffect;

    // A slow email: its attempt has not settled when the payment is answered.
    await system.setFaults('email', { latency: { fixedMs: 1_500 } });
    const paid = await api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
    expect(paid.status).toBe(201);
    const id = paid.body.id as string;
    const first = await sideEffects(id);
    expect(new Set(first.map((e) => e.group))).toEqual(
      new Set(['email', 'analytics', 'reports-ledger', 'webhooks', 'live', 'audit']),
    );
    expect(first.every((e) => e.event_type === 'payment.succeeded')).toBe(true);
    expect((await email(id)).state).toBe('pending');
    await waitFor('the other groups to be done', async () =>
      (await sideEffects(id)).filter((e) => e.group !== 'email').every((e) => e.state === 'delivered'),
    );
    await waitFor('the slow receipt', async () => (await email(id)).state === 'delivered', 10_000);

    // A failing email: retried with its error, then dead-lettered.
    await system.setFaults('email', { latency: null, errorRate: 1 });
    const failing = await api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
    const failingId = failing.body.id as string;
    const retrying = await waitFor('a retrying receipt', async () => {
      const effect = await email(failingId);
      return effect.state === 'retrying' ? effect : undefined;
    });
    expect(retrying.attempts).toBeGreaterThanOrEqual(1);
    expect(retrying.last_error).toMatch(/injected fault in email/);
    expect(retrying.next_attempt_at).not.toBeNull();
    const dead = await waitFor('a dead-lettered receipt', async () => {
      const effect = await email(failingId);
      return effect.state === 'dead_lettered' ? effect : undefined;
    });
    expect(dead.attempts).toBe(3);
    expect(dead.last_error).toMatch(/injected fault in email/);

    // Back up, replayed from the dead-letter queue: pending again, then delivered on a fresh first attempt.
    await system.setFaults('email', { errorRate: 0 });
    await system.system.transport.deadLetters.replay('email', dead.event_id);
    expect(['pending', 'delivered']).toContain((await email(failingId)).state);
    const delivered = await waitFor('the replayed receipt', async () => {
      const effect = await email(failingId);
      return effect.state === 'delivered' ? effect : undefined;
    });
    expect(delivered.attempts).toBe(1);

    // Another account's key sees nothing of it.
    const stranger = system.system.keys.issue('api');
    const hidden = await api('GET', `/v1/payments/${failingId}/side_effects`, { key: stranger.secret });
    expect(hidden.status).toBe(404);
  });
});
