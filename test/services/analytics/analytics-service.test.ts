import type { AddressInfo } from 'node:net';
import { createEvent, type Envelope } from '@syncopate/messaging';
import { afterEach, describe, expect, it } from 'vitest';
import { PaymentFailed, PaymentRefunded, PaymentSucceeded } from '../../../src/contracts/payment-events.js';
import { createHttpServer } from '../../../src/platform/http/server.js';
import { analyticsModule } from '../../../src/services/analytics/index.js';
import { createTestContext } from '../../support/service-context.js';
import { waitFor } from '../../support/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startAnalytics() {
  const context = await createTestContext({ topology: [analyticsModule], service: 'analytics' });
  const service = await analyticsModule.create(context);
  const server = createHttpServer({ logger: context.logger });
  service.routes?.(server);
  await server.listen({ port: 0, host: '127.0.0.1' });
  await service.start?.();
  cleanups.push(async () => {
    await server.close();
    await service.stop?.(1_000);
    await context.close();
  });
  const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const summary = async (secret: string, query = '') => {
    const response = await fetch(`${url}/v1/analytics/summary${query}`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    return { status: response.status, body: (await response.json()) as Summary };
  };
  const publish = (...events: Envelope[]) => context.transport.publish(events);
  return { context, url, summary, publish };
}

interface Figures {
  succeeded_count: number;
  failed_count: number;
  gross_amount: number;
  refunded_amount: number;
  net_amount: number;
  success_rate: number | null;
}
interface Summary {
  account_id: string;
  totals: (Figures & { currency: string })[];
  series: { granularity: string; currencies: { currency: string; points: (Figures & { start: string })[] }[] } | null;
  error?: { type: string; code: string; message: string; param?: string };
}

let n = 0;
const source = 'urn:syncopate:payments';

function facts(accountId: string, amount: number, currency: string, createdAt: string) {
  return {
    payment_id: `pay_${++n}`,
    account_id: accountId,
    amount,
    currency,
    customer_email: 'ada@example.com',
    description: null,
    card: { brand: 'visa', last4: '4242' },
    created_at: createdAt,
  };
}

const succeeded = (accountId: string, amount: number, currency: string, createdAt = '2024-03-10T10:15:30.000Z') => {
  const data = facts(accountId, amount, currency, createdAt);
  return createEvent(PaymentSucceeded, data, { source, orderingKey: data.payment_id });
};

const failed = (accountId: string, amount: number, currency: string, createdAt = '2024-03-10T10:15:30.000Z') => {
  const data = {
    ...facts(accountId, amount, currency, createdAt),
    failure_code: 'card_declined',
    failure_message: 'x',
  };
  return createEvent(PaymentFailed, data, { source, orderingKey: data.payment_id });
};

function refunded(payment: ReturnType<typeof succeeded>, amount: number, at = '2024-03-11T08:00:00.000Z') {
  const data = {
    ...payment.data,
    refund: { id: `re_${++n}`, amount, created_at: at },
    amount_refunded: amount,
  };
  return createEvent(PaymentRefunded, data, { source, orderingKey: data.payment_id });
}

const attempted = (summary: Summary) => summary.totals.reduce((sum, t) => sum + t.succeeded_count + t.failed_count, 0);

describe('analytics service', () => {
  it('counts an event delivered twice once: the inbox and the counters commit together', async () => {
    const { context, summary, publish } = await startAnalytics();
    const key = context.keys.issue('api');
    const payment = succeeded(key.accountId, 1_000, 'usd');
    await publish(payment);
    await publish(payment);
    // Same ordering key: the refund is handled only after both copies of the payment were.
    await publish(refunded(payment, 1));
    await waitFor('the refund counted', async () => (await summary(key.secret)).body.totals[0]?.refunded_amount === 1);
    const { body } = await summary(key.secret);
    expect(body.totals).toEqual([
      {
        currency: 'usd',
        succeeded_count: 1,
        failed_count: 0,
        gross_amount: 1_000,
        refunded_amount: 1,
        net_amount: 999,
        success_rate: 1,
      },
    ]);
  });

  it('totals each currency of the caller only, with its success rate, and a series per minute and per day', async () => {
    const { context, summary, publish } = await startAnalytics();
    const merchant = context.keys.issue('api');
    const other = context.keys.issue('api');
    const stranger = context.keys.issue('api');
    const big = succeeded(merchant.accountId, 2_500, 'usd', '2024-03-10T10:16:05.000Z');
    await publish(
      succeeded(other.accountId, 99_999, 'usd'),
      failed(other.accountId, 5, 'jpy'),
      succeeded(merchant.accountId, 1_000, 'usd'),
      big,
      failed(merchant.accountId, 700, 'usd'),
      succeeded(merchant.accountId, 1_999, 'jpy'),
      failed(merchant.accountId, 5_000, 'jpy'),
      failed(merchant.accountId, 300, 'jpy', '2024-03-11T23:59:59.999Z'),
    );
    await publish(refunded(big, 500));
    await waitFor('the other account counted', async () => attempted((await summary(other.secret)).body) === 2);
    await waitFor('all of the merchant counted', async () => {
      const { body } = await summary(merchant.secret);
      return attempted(body) === 6 && body.totals.some((t) => t.refunded_amount > 0);
    });
    const { status, body } = await summary(merchant.secret);

    expect(status).toBe(200);
    expect(body.account_id).toBe(merchant.accountId);
    expect(body.series).toBeNull();
    expect(body.totals).toEqual([
      {
        currency: 'jpy',
        succeeded_count: 1,
        failed_count: 2,
        gross_amount: 1_999,
        refunded_amount: 0,
        net_amount: 1_999,
        success_rate: 0.3333,
      },
      {
        currency: 'usd',
        succeeded_count: 2,
        failed_count: 1,
        gross_amount: 3_500,
        refunded_amount: 500,
        net_amount: 3_000,
        success_rate: 0.6667,
      },
    ]);
    expect((await summary(stranger.secret)).body.totals).toEqual([]);

    const minutes = await summary(
      merchant.secret,
      '?granularity=minute&from=2024-03-10T10:14:00Z&to=2024-03-10T10:17:00Z',
    );
    expect(minutes.status).toBe(200);
    const usdMinutes = minutes.body.series?.currencies.find((c) => c.currency === 'usd')?.points;
    expect(usdMinutes?.map((p) => [p.start, p.succeeded_count, p.failed_count, p.gross_amount])).toEqual([
      ['2024-03-10T10:14:00.000Z', 0, 0, 0],
      ['2024-03-10T10:15:00.000Z', 1, 1, 1_000],
      ['2024-03-10T10:16:00.000Z', 1, 0, 2_500],
    ]);
    expect(minutes.body.series?.currencies.map((c) => c.currency)).toEqual(['jpy', 'usd']);

    const days = await summary(merchant.secret, '?granularity=day&from=2024-03-10T00:00:00Z&to=2024-03-12T00:00:00Z');
    const jpyDays = days.body.series?.currencies.find((c) => c.currency === 'jpy')?.points;
    const usdDays = days.body.series?.currencies.find((c) => c.currency === 'usd')?.points;
    expect(jpyDays?.map((p) => [p.start, p.succeeded_count, p.failed_count, p.success_rate])).toEqual([
      ['2024-03-10T00:00:00.000Z', 1, 1, 0.5],
      ['2024-03-11T00:00:00.000Z', 0, 1, 0],
    ]);
    // The refund counts on the day it happened, not on the day of its payment.
    expect(usdDays?.map((p) => [p.start, p.gross_amount, p.refunded_amount, p.net_amount])).toEqual([
      ['2024-03-10T00:00:00.000Z', 3_500, 0, 3_500],
      ['2024-03-11T00:00:00.000Z', 0, 500, -500],
    ]);
  });

  it('answers bad series parameters with 400 in the error shape, and accepts the largest ranges', async () => {
    const { context, summary } = await startAnalytics();
    const { secret } = context.keys.issue('api');
    const bad: [string, string, string][] = [
      ['?granularity=hour', 'parameter_invalid', 'granularity'],
      ['?granularity=minute&from=yesterday', 'parameter_invalid', 'from'],
      ['?granularity=minute&from=2024-03-10T10:00:00Z&to=2024-03-10T09:00:00Z', 'parameter_invalid', 'to'],
      ['?granularity=minute&from=2024-03-10T00:00:00Z&to=2024-03-11T00:00:01Z', 'range_too_large', 'from'],
      ['?granularity=day&from=2024-01-01T00:00:00Z&to=2025-01-02T00:00:00Z', 'range_too_large', 'from'],
      ['?from=2024-03-10T00:00:00Z&to=2024-03-11T00:00:00Z', 'parameter_missing', 'granularity'],
    ];
    for (const [query, code, param] of bad) {
      const { status, body } = await summary(secret, query);
      expect({ query, status, error: body.error }).toEqual({
        query,
        status: 400,
        error: { type: 'invalid_request_error', code, param, message: expect.any(String) },
      });
    }
    const day = await summary(secret, '?granularity=minute&from=2024-03-10T00:00:00Z&to=2024-03-11T00:00:00Z');
    expect(day.status).toBe(200);
    const leapYear = await summary(secret, '?granularity=day&from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z');
    expect(leapYear.status).toBe(200);
    const recent = await summary(secret, '?granularity=minute');
    expect(recent.body.series?.granularity).toBe('minute');
  });

  it('refuses a caller without a valid API key with 401 in the error shape', async () => {
    const { url } = await startAnalytics();
    const missing = await fetch(`${url}/v1/analytics/summary?granularity=hour`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { type: 'authentication_error', code: 'missing_api_key' } });
    const wrong = await fetch(`${url}/v1/analytics/summary`, { headers: { authorization: 'Bearer sk_test_nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key' } });
  });
});
