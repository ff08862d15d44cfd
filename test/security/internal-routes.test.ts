import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { openPlatformStore } from '../../src/platform/auth/platform-store.js';
import { resolveSecrets, SecretStore } from '../../src/platform/auth/secrets.js';
import { loadConfig } from '../../src/platform/config.js';
import { paymentBody, startTestSystem, TEST_API_KEY, type TestSystem } from '../support/system.js';
import {
  call,
  expectError,
  forgedPayment,
  OLD_DEFAULT_GATEWAY_KEY,
  OLD_DEFAULT_INTERNAL_KEY,
  receipts,
} from './support.js';

const EFFECT_SERVICES = ['email', 'analytics', 'notifications', 'reports'];

const accountOf = (t: TestSystem) => {
  const principal = t.system.keys.verify(TEST_API_KEY);
  if (!principal) throw new Error('the test key is unknown');
  return principal.accountId;
};

const pay = (t: TestSystem, card = '4242424242424242') =>
  t.api('POST', '/v1/payments', {
    body: paymentBody({ card: { ...paymentBody().card, number: card } }),
    idempotencyKey: randomUUID(),
  });

describe('finding 1: forged events through the internal effect endpoints', () => {
  describe('in async mode (the default)', () => {
    let t: TestSystem;
    beforeAll(async () => {
      t = await startTestSystem({ modules: ALL_MODULES });
    });
    afterAll(() => t?.stop());

    it('a forged payment.succeeded with the old default key finds no effect endpoint, on either listener: no receipt, no count', async () => {
      const forged = forgedPayment(accountOf(t));
      for (const service of EFFECT_SERVICES) {
        for (const base of [t.url, t.system.internalUrl as string]) {
          const answer = await call(base, 'POST', `/v1/internal/effects/${service}`, {
            key: OLD_DEFAULT_INTERNAL_KEY,
            body: forged,
          });
          expectError(answer, 404, 'route_not_found');
        }
      }
      expect(receipts(t.dataDir)).toEqual([]);
      const summary = await t.api('GET', '/v1/analytics/summary');
      expect(summary.status).toBe(200);
      expect(summary.body.totals).toEqual([]);
    });

    it('the legitimate path still works: a real payment gets its receipt and its count, from the queue', async () => {
      expect((await pay(t)).status).toBe(201);
      await expect.poll(() => receipts(t.dataDir).length, { timeout: 15_000 }).toBe(1);
      await expect
        .poll(async () => (await t.api('GET', '/v1/analytics/summary')).body.totals[0]?.succeeded_count, {
          timeout: 15_000,
        })
        .toBe(1);
    });

    it('the services’ secrets are generated, not the old defaults, and kept in DATA_DIR for its owner only', async () => {
      const { secrets } = t.system;
      expect(secrets.internalKey).not.toBe(OLD_DEFAULT_INTERNAL_KEY);
      expect(secrets.gatewayKey).not.toBe(OLD_DEFAULT_GATEWAY_KEY);
      expect(secrets.internalKey.length).toBeGreaterThanOrEqual(40);
      expect(secrets.gatewayKey).not.toBe(secrets.internalKey);
      expect(statSync(join(t.dataDir, 'auth.db')).mode & 0o777).toBe(0o600);
      // Another process of the same DATA_DIR finds the very same secrets (as the cluster's processes do).
      const db = openPlatformStore(t.dataDir);
      try {
        expect(resolveSecrets(loadConfig({ DATA_DIR: t.dataDir }), new SecretStore(db))).toEqual(secrets);
      } finally {
        db.close();
      }
    });

    it('a secret given in the environment wins, and one too short is refused naming the variable', () => {
      const db = openPlatformStore(t.dataDir);
      try {
        const config = loadConfig({ INTERNAL_KEY: 'internal_chosen_by_the_operator_0001' });
        expect(resolveSecrets(config, new SecretStore(db)).internalKey).toBe('internal_chosen_by_the_operator_0001');
      } finally {
        db.close();
      }
      expect(() => loadConfig({ GATEWAY_KEY: 'short' })).toThrow(/GATEWAY_KEY: must be at least 16 characters/);
    });
  });

  describe('in sync mode', () => {
    let t: TestSystem;
    beforeAll(async () => {
      t = await startTestSystem({ modules: ALL_MODULES, env: { SIDE_EFFECTS: 'sync' } });
    });
    afterAll(() => t?.stop());

    it('still calls its effects before answering: the receipt exists when the 201 arrives', async () => {
      expect((await pay(t)).status).toBe(201);
      expect(receipts(t.dataDir)).toHaveLength(1);
    });

    it('serves the effect endpoints on the internal listener only, where the old default key is refused before the body is read', async () => {
      const forged = forgedPayment(accountOf(t));
      for (const service of EFFECT_SERVICES) {
        expectError(
          await call(t.url, 'POST', `/v1/internal/effects/${service}`, { key: OLD_DEFAULT_INTERNAL_KEY, body: forged }),
          404,
          'route_not_found',
        );
        const internal = t.system.internalUrl as string;
        expectError(
          await call(internal, 'POST', `/v1/internal/effects/${service}`, {
            key: OLD_DEFAULT_INTERNAL_KEY,
            body: forged,
          }),
          401,
          'invalid_internal_key',
        );
        // Without a key, a body the schema refuses still gets the 401: nothing about the schema leaks.
        expectError(
          await call(internal, 'POST', `/v1/internal/effects/${service}`, { body: { not: 'an envelope' } }),
          401,
          'invalid_internal_key',
        );
      }
      expect(receipts(t.dataDir)).toHaveLength(1);
    });
  });
});

describe('finding 2: the gateway simulator', () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem({ modules: ALL_MODULES });
  });
  afterAll(() => t?.stop());

  const declining = { number: '4000000000000002', exp_month: 12, exp_year: 2040, cvc: '123' };

  it('is not on the public port: card testing, lookups by key and refunds behind the ledger find no route', async () => {
    const key = OLD_DEFAULT_GATEWAY_KEY;
    const headers = { 'idempotency-key': randomUUID() };
    expectError(
      await call(t.url, 'POST', '/v1/charges', {
        key,
        headers,
        body: { amount: 100, currency: 'usd', card: declining },
      }),
      404,
      'route_not_found',
    );
    expectError(await call(t.url, 'GET', '/v1/charges/by-idempotency-key/x', { key }), 404, 'route_not_found');
    expectError(
      await call(t.url, 'POST', '/v1/charges/ch_1/refunds', { key, headers, body: { amount: 1 } }),
      404,
      'route_not_found',
    );
  });

  it('on the internal listener, the old default key opens nothing, and a bad body without a key learns nothing', async () => {
    const internal = t.system.internalUrl as string;
    expect(new URL(internal).hostname).toBe('127.0.0.1');
    expect(new URL(internal).port).not.toBe(new URL(t.url).port);
    const answer = await call(internal, 'POST', '/v1/charges', {
      key: OLD_DEFAULT_GATEWAY_KEY,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount: 100, currency: 'usd', card: declining },
    });
    expectError(answer, 401, 'invalid_api_key');
    expectError(await call(internal, 'POST', '/v1/charges', { body: { nonsense: true } }), 401, 'invalid_api_key');
    expectError(await call(internal, 'GET', '/v1/charges/by-idempotency-key/x'), 401, 'invalid_api_key');
  });

  it('still authorizes the payments made through the public API, approving and declining', async () => {
    const approved = await pay(t);
    expect([approved.status, approved.body.status]).toEqual([201, 'succeeded']);
    const declined = await pay(t, declining.number);
    expect([declined.status, declined.body.error.code]).toEqual([402, 'card_declined']);
  });

  it('the OpenAPI document lists no internal route and says that every operation it lists is public', async () => {
    const { body } = await call(t.url, 'GET', '/v1/openapi.json');
    const paths = Object.keys(body.paths);
    expect(paths.filter((p) => p.startsWith('/v1/charges') || p.startsWith('/v1/internal'))).toEqual([]);
    expect(body.servers).toEqual([{ url: '/', description: 'The public listener (HOST:PORT)' }]);
    expect(body.info.description).toMatch(/Every operation here is served on the public listener/);
  });
});
