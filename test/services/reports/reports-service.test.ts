import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createEvent, type Envelope } from '@syncopate/messaging';
import { openSqlite } from '@syncopate/transport-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { PaymentFailed, PaymentRefunded, PaymentSucceeded } from '../../../src/contracts/payment-events.js';
import { ReportRequested } from '../../../src/contracts/report-events.js';
import { createHttpServer } from '../../../src/platform/http/server.js';
import type { Service } from '../../../src/platform/service.js';
import { createReports, type ReportsOptions, reportsModule } from '../../../src/services/reports/index.js';
import { createTestContext, type TestContext } from '../../support/service-context.js';
import { waitFor } from '../../support/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Report {
  id: string;
  object: string;
  status: string;
  from: string;
  to: string;
  created_at: string;
  download_url: string | null;
  failure_reason: string | null;
}
interface ErrorBody {
  error: { type: string; code: string; message: string; param?: string };
}

async function startReports(options: ReportsOptions = {}) {
  const context = await createTestContext({ topology: [reportsModule], service: 'reports' });
  const services: Service[] = [];
  const run = async () => {
    const service = await createReports(context, options);
    services.push(service);
    await service.start?.();
    return service;
  };
  const first = await createReports(context, options);
  services.push(first);
  const server = createHttpServer({ logger: context.logger });
  first.routes?.(server);
  await server.listen({ port: 0, host: '127.0.0.1' });
  await first.start?.();
  context.startRelays();
  // A second connection to the service's tables, beside the queue's (reports publishes events):
  // what the tests read to see what was written.
  const probe = openSqlite(join(context.config.dataDir, 'syncopate.db'));
  const queue = openSqlite(context.config.TRANSPORT_URL.replace(/^sqlite:/, '').replace(/\?.*$/, ''));
  cleanups.push(async () => {
    await server.close();
    for (const service of services) await service.stop?.(1_000);
    probe.close();
    queue.close();
    await context.close();
  });
  const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, options: { key?: string; body?: unknown } = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.startsWith('application/json');
    return { status: response.status, headers: response.headers, text, json: isJson ? JSON.parse(text) : undefined };
  };
  /** Polls the report until it has `status`, then answers it. */
  const reportWith = async (status: string, id: string, key: string): Promise<Report> => {
    const read = async () => (await call('GET', `/v1/reports/${id}`, { key })).json as Report;
    await waitFor(`report ${id} ${status}`, async () => (await read()).status === status);
    return read();
  };
  return { context, service: first, run, call, reportWith, probe, queue };
}

let n = 0;
const source = 'urn:syncopate:payments';

function facts(accountId: string, amount: number, currency: string, createdAt: string, description: string | null) {
  return {
    payment_id: `pay_${String(++n).padStart(4, '0')}`,
    account_id: accountId,
    amount,
    currency,
    customer_email: `buyer${n}@example.com`,
    description,
    card: { brand: 'visa', last4: '4242' },
    created_at: createdAt,
  };
}

function succeeded(
  accountId: string,
  amount: number,
  currency: string,
  createdAt: string,
  description = null as string | null,
) {
  const data = facts(accountId, amount, currency, createdAt, description);
  return createEvent(PaymentSucceeded, data, { source, orderingKey: data.payment_id });
}

function failed(accountId: string, amount: number, currency: string, createdAt: string) {
  const data = {
    ...facts(accountId, amount, currency, createdAt, null),
    failure_code: 'card_declined',
    failure_message: 'x',
  };
  return createEvent(PaymentFailed, data, { source, orderingKey: data.payment_id });
}

function refunded(payment: ReturnType<typeof succeeded>, amount: number) {
  const data = {
    ...payment.data,
    refund: { id: `re_${++n}`, amount, created_at: '2024-04-15T00:00:00.000Z' },
    amount_refunded: amount,
  };
  return createEvent(PaymentRefunded, data, { source, orderingKey: data.payment_id });
}

/** Publishes and waits until the read model holds `rows` payments with `refunded` refunded in all. */
async function feedLedger(
  parts: { context: TestContext; probe: ReturnType<typeof openSqlite> },
  events: Envelope[],
  expected: { rows: number; refunded: number },
) {
  await parts.context.transport.publish(events);
  await waitFor(`${expected.rows} payments in the read model`, () => {
    const { rows, refunded } = parts.probe
      .prepare('SELECT count(*) AS rows, coalesce(sum(amount_refunded), 0) AS refunded FROM ledger_payments')
      .get() as { rows: number; refunded: number };
    return rows === expected.rows && refunded === expected.refunded;
  });
}

const MARCH = { from: '2024-03-01T00:00:00Z', to: '2024-04-01T00:00:00Z' };

describe('reports service', () => {
  it('accepts a report at once, keeps it pending while no worker runs, then makes the CSV of the caller’s payments in the range', async () => {
    const parts = await startReports();
    const { context, call } = parts;
    const merchant = context.keys.issue('api');
    const other = context.keys.issue('api');
    const m = merchant.accountId;
    const mug = succeeded(m, 1_999, 'usd', '2024-03-01T00:00:00.000Z', 'Order #1, "blue" mug\nsecond line');
    const lamp = succeeded(m, 5_000, 'usd', '2024-03-05T12:00:00.000Z', '=HYPERLINK("http://evil")');
    const declined = failed(m, 700, 'usd', '2024-03-06T00:00:00.000Z');
    const tea = succeeded(m, 1_999, 'jpy', '2024-03-31T23:59:59.999Z');
    await feedLedger(
      parts,
      [
        mug,
        lamp,
        declined,
        tea,
        refunded(lamp, 1_250),
        succeeded(m, 111, 'usd', '2024-02-29T23:59:59.999Z'),
        succeeded(m, 222, 'usd', '2024-04-01T00:00:00.000Z'),
        succeeded(other.accountId, 333, 'usd', '2024-03-10T00:00:00.000Z'),
      ],
      { rows: 7, refunded: 1_250 },
    );
    // The workers stop (as in a restart); the request must wait (in the outbox, then the queue) until they are back.
    await parts.service.stop?.(1_000);

    const created = await call('POST', '/v1/reports', { key: merchant.secret, body: MARCH });
    expect(created.status).toBe(202);
    const report = created.json as Report;
    expect(created.headers.get('location')).toBe(`/v1/reports/${report.id}`);
    expect(report).toEqual({
      id: expect.stringMatching(/^rpt_/),
      object: 'report',
      status: 'pending',
      from: '2024-03-01T00:00:00.000Z',
      to: '2024-04-01T00:00:00.000Z',
      created_at: expect.any(String),
      download_url: null,
      failure_reason: null,
    });
    expect((await call('GET', `/v1/reports/${report.id}`, { key: merchant.secret })).json).toEqual(report);
    const early = await call('GET', `/v1/reports/${report.id}/download`, { key: merchant.secret });
    expect(early.status).toBe(409);
    expect(early.json).toEqual({
      error: { type: 'invalid_request_error', code: 'report_not_ready', message: expect.any(String) },
    });

    await parts.run();
    const ready = await parts.reportWith('ready', report.id, merchant.secret);
    expect(ready).toEqual({ ...report, status: 'ready', download_url: `/v1/reports/${report.id}/download` });

    const csv = await call('GET', `/v1/reports/${report.id}/download`, { key: merchant.secret });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text).toBe(
      [
        'payment_id,created_at,status,currency,amount,amount_refunded,net,customer_email,description',
        `${mug.data.payment_id},2024-03-01T00:00:00.000Z,succeeded,usd,19.99,0.00,19.99,${mug.data.customer_email},"Order #1, ""blue"" mug\nsecond line"`,
        `${lamp.data.payment_id},2024-03-05T12:00:00.000Z,succeeded,usd,50.00,12.50,37.50,${lamp.data.customer_email},"'=HYPERLINK(""http://evil"")"`,
        `${declined.data.payment_id},2024-03-06T00:00:00.000Z,failed,usd,7.00,0.00,0.00,${declined.data.customer_email},`,
        `${tea.data.payment_id},2024-03-31T23:59:59.999Z,succeeded,jpy,1999,0,1999,${tea.data.customer_email},`,
        'TOTAL,,"1 succeeded, 0 failed",jpy,1999,0,1999,,',
        'TOTAL,,"2 succeeded, 1 failed",usd,69.99,12.50,57.49,,',
        '',
      ].join('\r\n'),
    );
  });

  it('does not rebuild a ready report when its request is delivered again', async () => {
    const parts = await startReports();
    const { context, call, queue } = parts;
    const merchant = context.keys.issue('api');
    await feedLedger(parts, [succeeded(merchant.accountId, 1_000, 'usd', '2024-03-02T00:00:00.000Z')], {
      rows: 1,
      refunded: 0,
    });
    const report = (await call('POST', '/v1/reports', { key: merchant.secret, body: MARCH })).json as Report;
    await parts.reportWith('ready', report.id, merchant.secret);
    const before = (await call('GET', `/v1/reports/${report.id}/download`, { key: merchant.secret })).text;
    expect(before.split('\r\n')).toHaveLength(4);

    // A payment arrives in the range: a rebuild would now list it.
    await feedLedger(parts, [succeeded(merchant.accountId, 2_000, 'usd', '2024-03-03T00:00:00.000Z')], {
      rows: 2,
      refunded: 0,
    });
    await context.transport.publish(
      createEvent(
        ReportRequested,
        { report_id: report.id, account_id: merchant.accountId, from: report.from, to: report.to },
        { source: 'urn:syncopate:reports', orderingKey: report.id },
      ),
    );
    const waiting = queue.prepare("SELECT count(*) FROM syncopate_deliveries WHERE grp = 'reports'").pluck();
    await waitFor('the repeated request handled', () => waiting.get() === 0);
    expect(await context.transport.deadLetters.count('reports')).toBe(0);
    const after = await call('GET', `/v1/reports/${report.id}/download`, { key: merchant.secret });
    expect(after.text).toBe(before);
  });

  it('answers a bad request body with 400 in the error shape and writes nothing', async () => {
    const { context, call, probe } = await startReports();
    const { secret } = context.keys.issue('api');
    const bad: [unknown, string, string | undefined][] = [
      [{ ...MARCH, format: 'xlsx' }, 'parameter_unknown', 'format'],
      [{ from: MARCH.to, to: MARCH.from }, 'parameter_invalid', 'to'],
      [{ from: MARCH.from, to: MARCH.from }, 'parameter_invalid', 'to'],
      [{ from: '2024-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' }, 'range_too_large', 'to'],
      [{ from: '2024-03-01', to: MARCH.to }, 'parameter_invalid', 'from'],
      [{ from: 'last tuesday', to: MARCH.to }, 'parameter_invalid', 'from'],
      [{ from: MARCH.from }, 'parameter_missing', 'to'],
    ];
    for (const [body, code, param] of bad) {
      const answer = await call('POST', '/v1/reports', { key: secret, body });
      expect({ body, status: answer.status, json: answer.json }).toEqual({
        body,
        status: 400,
        json: { error: { type: 'invalid_request_error', code, param, message: expect.any(String) } },
      });
    }
    expect(probe.prepare('SELECT count(*) FROM reports').pluck().get()).toBe(0);
    expect(
      probe.prepare("SELECT count(*) FROM syncopate_deliveries WHERE type = 'report.requested'").pluck().get(),
    ).toBe(0);

    const longest = await call('POST', '/v1/reports', {
      key: secret,
      body: { from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' },
    });
    expect(longest.status).toBe(202);
    expect(probe.prepare('SELECT count(*) FROM reports').pluck().get()).toBe(1);
  });

  it('refuses callers without a key and hides one account’s report from another', async () => {
    const { context, call } = await startReports();
    const owner = context.keys.issue('api');
    const stranger = context.keys.issue('api');
    const anonymous = await call('POST', '/v1/reports', { body: { from: 'nonsense' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ error: { type: 'authentication_error', code: 'missing_api_key' } });
    const report = (await call('POST', '/v1/reports', { key: owner.secret, body: MARCH })).json as Report;
    expect((await call('GET', `/v1/reports/${report.id}`)).status).toBe(401);
    for (const path of [`/v1/reports/${report.id}`, `/v1/reports/${report.id}/download`]) {
      const answer = await call('GET', path, { key: stranger.secret });
      expect({ path, status: answer.status, json: answer.json }).toEqual({
        path,
        status: 404,
        json: {
          error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message: expect.any(String) },
        },
      });
    }
    expect((await call('GET', `/v1/reports/${report.id}`, { key: owner.secret })).status).toBe(200);
  });

  it('marks a report failed, with the reason, when its range holds more payments than a report may', async () => {
    const parts = await startReports({ maxPayments: 2 });
    const { context, call } = parts;
    const merchant = context.keys.issue('api');
    const a = merchant.accountId;
    await feedLedger(
      parts,
      [
        succeeded(a, 100, 'usd', '2024-03-02T00:00:00.000Z'),
        succeeded(a, 200, 'usd', '2024-03-03T00:00:00.000Z'),
        succeeded(a, 300, 'usd', '2024-03-04T00:00:00.000Z'),
      ],
      { rows: 3, refunded: 0 },
    );
    const report = (await call('POST', '/v1/reports', { key: merchant.secret, body: MARCH })).json as Report;
    const failedReport = await parts.reportWith('failed', report.id, merchant.secret);
    expect(failedReport.failure_reason).toMatch(/more than 2 payments/);
    expect(failedReport.download_url).toBeNull();
    const download = await call('GET', `/v1/reports/${report.id}/download`, { key: merchant.secret });
    expect(download.status).toBe(409);
    expect((download.json as ErrorBody).error.code).toBe('report_failed');
    await waitFor(
      'the request dead-lettered',
      async () => (await context.transport.deadLetters.count('reports')) === 1,
    );
    const { items } = await context.transport.deadLetters.list('reports');
    expect(items[0]?.reason).toMatch(/more than 2 payments/);
  });
});
