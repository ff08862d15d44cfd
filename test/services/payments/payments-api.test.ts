import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayModule } from '../../../src/services/gateway/gateway-service.js';
import { IDEMPOTENCY_TTL_MS } from '../../../src/services/payments/idempotency-store.js';
import { paymentsModule } from '../../../src/services/payments/index.js';
import { expectOnePaymentAmong, paymentBody, startTestSystem, type TestSystem } from '../../support/system.js';
import { waitFor } from '../../support/wait.js';

let n = 0;
const key = () => `test-key-${process.pid}-${n++}`;

describe('payments API: the synchronous critical path', () => {
  let t: TestSystem;
  let gatewayDb: Database.Database;
  const charges = () => gatewayDb.prepare('SELECT count(*) FROM charges').pluck().get() as number;
  // With the embedded transport, payments keeps its tables in the queue's file (its events are queue rows).
  const payments = () =>
    new Database(join(t.dataDir, 'syncopate.db'), { readonly: true })
      .prepare('SELECT count(*) FROM payments')
      .pluck()
      .get() as number;

  const gatewayChargeOf = (paymentId: string) => {
    const db = new Database(join(t.dataDir, 'syncopate.db'), { readonly: true });
    try {
      return db.prepare('SELECT gateway_charge FROM payments WHERE id = ?').pluck().get(paymentId) as string;
    } finally {
      db.close();
    }
  };
  /** A day later: payments has forgotten key `k`, and the gateway the rows `forget` dates back. */
  const dayLater = (k: string, forget: string, gatewayRowId: string) => {
    const payments = new Database(join(t.dataDir, 'syncopate.db'));
    const gateway = new Database(join(t.dataDir, 'gateway.db'));
    try {
      payments
        .prepare('UPDATE idempotency_keys SET created_at = created_at - ? WHERE key = ?')
        .run(IDEMPOTENCY_TTL_MS + 1_000, k);
      gateway.prepare(forget).run('2000-01-01T00:00:00.000Z', gatewayRowId);
    } finally {
      payments.close();
      gateway.close();
    }
  };

  beforeAll(async () => {
    t = await startTestSystem({ modules: [gatewayModule, paymentsModule] });
    gatewayDb = new Database(join(t.dataDir, 'gateway.db'), { readonly: true });
  });
  afterAll(async () => {
    gatewayDb?.close();
    await t?.stop();
  });

  it('confirms a good card with 201, and the payment is readable at once', async () => {
    const created = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: key() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'payment',
      status: 'succeeded',
      amount: 1999,
      currency: 'usd',
      amount_refunded: 0,
      card: { brand: 'visa', last4: '4242' },
      customer: { email: 'ada@example.com' },
      failure_code: null,
    });
    expect(created.body.id).toMatch(/^pay_[0-9a-f]{32}$/);
    expect(JSON.stringify(created.body)).not.toContain('4242424242424242');
    const read = await t.api('GET', `/v1/payments/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    await waitFor('the payment.succeeded event', () => t.audit.find((e) => e.subject === created.body.id));
    const event = t.audit.find((e) => e.subject === created.body.id);
    expect(event).toMatchObject({ type: 'payment.succeeded', orderingkey: created.body.id });
    expect(event?.data).toMatchObject({
      payment_id: created.body.id,
      amount: 1999,
      card: { brand: 'visa', last4: '4242' },
    });
  });

  it.each([
    ['4000000000000002', 'card_declined'],
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000000119', 'processing_error'],
    ['4242424242424241', 'incorrect_number'],
  ])('answers 402 with the failed payment for card %s (%s) and publishes payment.failed', async (number, code) => {
    const response = await t.api('POST', '/v1/payments', {
      body: paymentBody({ card: { ...paymentBody().card, number } }),
      idempotencyKey: key(),
    });
    expect(response.status).toBe(402);
    expect(response.body.error).toMatchObject({ type: 'card_error', code });
    expect(response.body.payment).toMatchObject({ status: 'failed', failure_code: code });
    await waitFor('the payment.failed event', () =>
      t.audit.find((e) => e.subject === response.body.payment.id && e.type === 'payment.failed'),
    );
  });

  it('declines an expired card', async () => {
    const response = await t.api('POST', '/v1/payments', {
      body: paymentBody({ card: { ...paymentBody().card, exp_year: 2020 } }),
      idempotencyKey: key(),
    });
    expect(response.status).toBe(402);
    expect(response.body.error.code).toBe('expired_card');
  });

  it('takes amounts in the minor unit, zero-decimal currencies included', async () => {
    const response = await t.api('POST', '/v1/payments', {
      body: paymentBody({ amount: 1999, currency: 'jpy' }),
      idempotencyKey: key(),
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ amount: 1999, currency: 'jpy' });
  });

  describe('idempotency', () => {
    it('replays the first response for the same key and body', async () => {
      const k = key();
      const first = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k });
      const before = charges();
      const again = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k });
      expect(again.status).toBe(first.status);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(charges()).toBe(before);
    });

    it('replays a decline too', async () => {
      const k = key();
      const body = paymentBody({ card: { ...paymentBody().card, number: '4000000000000002' } });
      const first = await t.api('POST', '/v1/payments', { body, idempotencyKey: k });
      const again = await t.api('POST', '/v1/payments', { body, idempotencyKey: k });
      expect([first.status, again.status]).toEqual([402, 402]);
      expect(again.body).toEqual(first.body);
    });

    it('refuses the same key with another body: 422', async () => {
      const k = key();
      await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k });
      const other = await t.api('POST', '/v1/payments', { body: paymentBody({ amount: 500 }), idempotencyKey: k });
      expect(other.status).toBe(422);
      expect(other.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
    });

    it('forgets a key after 24 hours: the same key then starts a new payment', async () => {
      const k = key();
      const first = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k });
      expect(first.status).toBe(201);
      dayLater(k, 'UPDATE charges SET created_at = ? WHERE id = ?', gatewayChargeOf(first.body.id));
      const before = charges();
      const second = await t.api('POST', '/v1/payments', { body: paymentBody({ amount: 500 }), idempotencyKey: k });
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBeNull();
      expect(second.body).toMatchObject({ amount: 500, status: 'succeeded' });
      expect(second.body.id).not.toBe(first.body.id);
      expect(charges()).toBe(before + 1);
      // The new answer is the one kept: a retry now replays it.
      const again = await t.api('POST', '/v1/payments', { body: paymentBody({ amount: 500 }), idempotencyKey: k });
      expect(again.body).toEqual(second.body);
    });

    it('keeps keys per API key: another account may use the same key', async () => {
      const k = key();
      const other = t.system.keys.issue('api').secret;
      const mine = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k });
      const theirs = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k, key: other });
      expect([mine.status, theirs.status]).toEqual([201, 201]);
      expect(theirs.body.id).not.toBe(mine.body.id);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    });

    it('charges the gateway once for twenty concurrent requests with one key', async () => {
      // The first holds the key for five seconds, so the twenty overlap (409s) however busy the
      // machine; any that come after it get its answer again: one charge either way.
      await t.setFaults('gateway', { latency: { fixedMs: 5_000 } });
      try {
        const k = key();
        const before = charges();
        const responses = await Promise.all(
          Array.from({ length: 20 }, () => t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k })),
        );
        expectOnePaymentAmong(responses);
        expect(charges()).toBe(before + 1);
        const after = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: k });
        expect(after.status).toBe(201);
        expect(after.headers.get('idempotent-replayed')).toBe('true');
      } finally {
        await t.setFaults('gateway', {});
      }
    });
  });

  describe('bad input gets a 4xx in the one error shape, and nothing is written', () => {
    const base = paymentBody();
    const cases: [
      string,
      { body?: unknown; rawBody?: string; headers?: Record<string, string>; idempotencyKey?: string | null },
      number,
      string,
      string?,
    ][] = [
      ['a missing amount', { body: { ...base, amount: undefined } }, 400, 'parameter_missing', 'amount'],
      ['an amount of zero', { body: { ...base, amount: 0 } }, 400, 'parameter_invalid', 'amount'],
      ['a fractional amount', { body: { ...base, amount: 19.99 } }, 400, 'parameter_invalid', 'amount'],
      ['an amount over the maximum', { body: { ...base, amount: 100_000_000 } }, 400, 'parameter_invalid', 'amount'],
      ['an amount as a string', { body: { ...base, amount: '1999' } }, 400, 'parameter_invalid', 'amount'],
      ['an unsupported currency', { body: { ...base, currency: 'xyz' } }, 400, 'parameter_invalid', 'currency'],
      ['an upper-case currency', { body: { ...base, currency: 'USD' } }, 400, 'parameter_invalid', 'currency'],
      [
        'a card number with letters',
        { body: { ...base, card: { ...base.card, number: '4242abcd42424242' } } },
        400,
        'parameter_invalid',
        'card.number',
      ],
      [
        'a month 13',
        { body: { ...base, card: { ...base.card, exp_month: 13 } } },
        400,
        'parameter_invalid',
        'card.exp_month',
      ],
      [
        'a 5-digit CVC',
        { body: { ...base, card: { ...base.card, cvc: '12345' } } },
        400,
        'parameter_invalid',
        'card.cvc',
      ],
      ['a missing card', { body: { ...base, card: undefined } }, 400, 'parameter_missing', 'card'],
      [
        'a bad email',
        { body: { ...base, customer: { email: 'not-an-email' } } },
        400,
        'parameter_invalid',
        'customer.email',
      ],
      ['an unknown field', { body: { ...base, tip: 100 } }, 400, 'parameter_unknown', 'tip'],
      [
        'an unknown nested field',
        { body: { ...base, card: { ...base.card, pin: '1234' } } },
        400,
        'parameter_unknown',
        'card.pin',
      ],
      [
        '21 metadata keys',
        { body: { ...base, metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) } },
        400,
        'parameter_invalid',
        'metadata',
      ],
      [
        'a metadata value that is not a string',
        { body: { ...base, metadata: { order: 42 } } },
        400,
        'parameter_invalid',
        'metadata.order',
      ],
      [
        'a description over 500 characters',
        { body: { ...base, description: 'x'.repeat(501) } },
        400,
        'parameter_invalid',
        'description',
      ],
      ['an array body', { body: [base] }, 400, 'parameter_invalid'],
      ['malformed JSON', { rawBody: '{"amount": 19' }, 400, 'invalid_json'],
      ['an empty body', { rawBody: '' }, 400, 'body_missing'],
      [
        'a form-encoded body',
        { rawBody: 'amount=1999', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        415,
        'unsupported_media_type',
      ],
      ['a huge body', { body: { ...base, description: 'x'.repeat(40_000) } }, 413, 'body_too_large'],
      ['no Idempotency-Key', { body: base, idempotencyKey: null }, 400, 'parameter_missing', 'idempotency-key'],
      [
        'an Idempotency-Key over 255 characters',
        { body: base, idempotencyKey: 'k'.repeat(256) },
        400,
        'parameter_invalid',
        'idempotency-key',
      ],
    ];

    it.each(cases)('%s', async (_name, request, status, code, param) => {
      const before = { charges: charges(), payments: payments() };
      const response = await t.api('POST', '/v1/payments', {
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(request.rawBody === undefined ? {} : { rawBody: request.rawBody }),
        headers: request.headers ?? {},
        ...(request.idempotencyKey === null ? {} : { idempotencyKey: request.idempotencyKey ?? key() }),
      });
      expect(response.status).toBe(status);
      expect(Object.keys(response.body)).toEqual(['error']);
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.type).toBe('invalid_request_error');
      expect(typeof response.body.error.message).toBe('string');
      if (param) expect(response.body.error.param).toBe(param);
      expect(JSON.stringify(response.body)).not.toContain('4242424242424242');
      expect({ charges: charges(), payments: payments() }).toEqual(before);
    });

    it('rejects a bad cursor and a page over the cap', async () => {
      expect((await t.api('GET', '/v1/payments?limit=101')).status).toBe(400);
      expect((await t.api('GET', '/v1/payments?starting_after=nope')).body.error.param).toBe('starting_after');
      expect((await t.api('GET', '/v1/payments?colour=red')).body.error.code).toBe('parameter_unknown');
    });
  });

  describe('authentication', () => {
    it('requires a valid API key, before looking at the body', async () => {
      const none = await t.api('POST', '/v1/payments', { body: { nonsense: true }, key: null, idempotencyKey: key() });
      expect(none.status).toBe(401);
      expect(none.body.error).toMatchObject({ type: 'authentication_error', code: 'missing_api_key' });
      const wrong = await t.api('GET', '/v1/payments', { key: 'sk_test_not_a_real_key_0000' });
      expect(wrong.body.error.code).toBe('invalid_api_key');
      const malformed = await t.api('GET', '/v1/payments', { key: null, headers: { authorization: 'Basic abc' } });
      expect(malformed.body.error.code).toBe('invalid_authorization');
      const admin = await t.api('GET', '/v1/payments', { key: 'sk_admin_test_key_000000000001' });
      expect(admin.status).toBe(401);
    });

    it('shows a payment only to the key that created it', async () => {
      const created = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: key() });
      const other = t.system.keys.issue('api').secret;
      const read = await t.api('GET', `/v1/payments/${created.body.id}`, { key: other });
      expect(read.status).toBe(404);
      expect(read.body.error.code).toBe('resource_missing');
      const list = await t.api('GET', '/v1/payments', { key: other });
      expect(list.body.data).toEqual([]);
    });
  });

  it('pages through payments newest first with a cursor', async () => {
    const account = t.system.keys.issue('api').secret;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (
          await t.api('POST', '/v1/payments', {
            body: paymentBody({ amount: 100 + i }),
            idempotencyKey: key(),
            key: account,
          })
        ).body.id,
      );
    }
    const first = await t.api('GET', '/v1/payments?limit=2', { key: account });
    expect(first.body).toMatchObject({ object: 'list', has_more: true });
    expect(first.body.data.map((p: { id: string }) => p.id)).toEqual([ids[4], ids[3]]);
    const rest = await t.api('GET', `/v1/payments?limit=10&starting_after=${ids[3]}`, { key: account });
    expect(rest.body.data.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(rest.body.has_more).toBe(false);
  });

  describe('refunds', () => {
    it('refunds in parts, never more than captured, and publishes payment.refunded', async () => {
      const paid = await t.api('POST', '/v1/payments', { body: paymentBody({ amount: 1000 }), idempotencyKey: key() });
      const id = paid.body.id;
      const part = await t.api('POST', `/v1/payments/${id}/refunds`, { body: { amount: 400 }, idempotencyKey: key() });
      expect(part.status).toBe(201);
      expect(part.body).toMatchObject({ object: 'refund', payment: id, amount: 400 });
      const tooMuch = await t.api('POST', `/v1/payments/${id}/refunds`, {
        body: { amount: 601 },
        idempotencyKey: key(),
      });
      expect(tooMuch.status).toBe(400);
      expect(tooMuch.body.error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
      const rest = await t.api('POST', `/v1/payments/${id}/refunds`, { body: {}, idempotencyKey: key() });
      expect(rest.body.amount).toBe(600);
      const after = await t.api('GET', `/v1/payments/${id}`);
      expect(after.body.amount_refunded).toBe(1000);
      expect(after.body.refunds.map((r: { amount: number }) => r.amount)).toEqual([400, 600]);
      const nothingLeft = await t.api('POST', `/v1/payments/${id}/refunds`, {
        body: { amount: 1 },
        idempotencyKey: key(),
      });
      expect(nothingLeft.status).toBe(400);
      await waitFor(
        'two payment.refunded events',
        () => t.audit.filter((e) => e.subject === id && e.type === 'payment.refunded').length === 2,
      );
      const events = t.audit.filter((e) => e.subject === id && e.type === 'payment.refunded');
      expect(events.map((e) => (e.data as { amount_refunded: number }).amount_refunded)).toEqual([400, 1000]);
    });

    it('does not refund a failed payment, nor another account’s', async () => {
      const failed = await t.api('POST', '/v1/payments', {
        body: paymentBody({ card: { ...paymentBody().card, number: '4000000000000002' } }),
        idempotencyKey: key(),
      });
      const refused = await t.api('POST', `/v1/payments/${failed.body.payment.id}/refunds`, {
        body: {},
        idempotencyKey: key(),
      });
      expect(refused.body.error.code).toBe('payment_not_refundable');
      const paid = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: key() });
      const other = t.system.keys.issue('api').secret;
      const stranger = await t.api('POST', `/v1/payments/${paid.body.id}/refunds`, {
        body: {},
        idempotencyKey: key(),
        key: other,
      });
      expect(stranger.status).toBe(404);
    });

    it('replays a refund for the same key instead of refunding twice', async () => {
      const paid = await t.api('POST', '/v1/payments', { body: paymentBody({ amount: 1000 }), idempotencyKey: key() });
      const k = key();
      const first = await t.api('POST', `/v1/payments/${paid.body.id}/refunds`, {
        body: { amount: 300 },
        idempotencyKey: k,
      });
      const again = await t.api('POST', `/v1/payments/${paid.body.id}/refunds`, {
        body: { amount: 300 },
        idempotencyKey: k,
      });
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect((await t.api('GET', `/v1/payments/${paid.body.id}`)).body.amount_refunded).toBe(300);
    });

    it('refunds again under a key reused after 24 hours, at the gateway too', async () => {
      const paid = await t.api('POST', '/v1/payments', { body: paymentBody({ amount: 1000 }), idempotencyKey: key() });
      const k = key();
      const refund = (amount: number) =>
        t.api('POST', `/v1/payments/${paid.body.id}/refunds`, { body: { amount }, idempotencyKey: k });
      const first = await refund(300);
      expect(first.status).toBe(201);
      dayLater(k, 'UPDATE refunds SET created_at = ? WHERE charge_id = ?', gatewayChargeOf(paid.body.id));
      const second = await refund(200);
      expect(second.status).toBe(201);
      expect(second.body.id).not.toBe(first.body.id);
      expect((await t.api('GET', `/v1/payments/${paid.body.id}`)).body.amount_refunded).toBe(500);
      expect(
        gatewayDb
          .prepare('SELECT amount_refunded FROM charges WHERE id = ?')
          .pluck()
          .get(gatewayChargeOf(paid.body.id)),
      ).toBe(500);
    });
  });
});
