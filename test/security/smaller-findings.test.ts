import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '@syncopate/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { PaymentSucceeded } from '../../src/contracts/payment-events.js';
import { paymentsModule } from '../../src/services/payments/index.js';
import { paymentBody, startTestSystem, TEST_ADMIN_KEY, TEST_API_KEY, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { call, expectError } from './support.js';

/** A public address written as a literal: registration needs no DNS to take it. */
const PUBLIC_HOOK = 'https://93.184.216.34/hooks';

describe('finding 6: the smaller ones', () => {
  let t: TestSystem;
  let labDir: string;
  beforeAll(async () => {
    labDir = mkdtempSync(join(tmpdir(), 'syncopate-no-lab-report-'));
    t = await startTestSystem({ modules: ALL_MODULES, env: { LAB_REPORT_DIR: labDir } });
  });
  afterAll(() => t?.stop());

  it('serves the dashboard with security headers: a CSP without inline script that forbids framing, nosniff', async () => {
    const page = await fetch(`${t.url}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    // Every API answer carries them too.
    expect(
      (await call(t.url, 'GET', '/v1/payments', { key: TEST_API_KEY })).headers.get('x-content-type-options'),
    ).toBe('nosniff');
  });

  it('answers the lab report 404 without the folder’s absolute path', async () => {
    const answer = await call(t.url, 'GET', '/v1/dashboard/lab_report');
    expectError(answer, 404, 'lab_report_missing');
    expect(answer.body.error.message).not.toContain(labDir);
    expect(answer.body.error.message).not.toContain(tmpdir());
    expect(answer.body.error.message).toContain('LAB_REPORT_DIR');
  });

  it('checks the admin key before the body: without it, a body the schema refuses tells nothing', async () => {
    const bad = { errorRate: 'plenty' };
    for (const key of [undefined, TEST_API_KEY]) {
      expectError(
        await call(t.url, 'PUT', '/v1/admin/faults/email', { key, body: bad }),
        401,
        key ? 'invalid_api_key' : 'missing_api_key',
      );
      expectError(
        await call(t.url, 'PATCH', '/v1/admin/faults/email', { key, body: bad }),
        401,
        key ? 'invalid_api_key' : 'missing_api_key',
      );
      expectError(
        await call(t.url, 'GET', '/v1/admin/dead_letters/email?limit=99999', { key }),
        401,
        key ? 'invalid_api_key' : 'missing_api_key',
      );
    }
    // With it, the same body gets its validation error.
    expectError(
      await call(t.url, 'PUT', '/v1/admin/faults/email', { key: TEST_ADMIN_KEY, body: bad }),
      400,
      'parameter_invalid',
    );
  });

  it("answers Node's 431 (headers too large) in the error shape", async () => {
    const socket = connect(Number(new URL(t.url).port), '127.0.0.1');
    const raw = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(`GET /v1/payments HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expectError({ status: 431, body: JSON.parse(body) }, 431, 'headers_too_large');
  });

  it('takes an Idempotency-Key on POST /v1/webhook_endpoints: a retry is the first answer, another body a 422', async () => {
    const key = randomUUID();
    const body = { url: PUBLIC_HOOK, enabled_events: ['payment.succeeded'] };
    const first = await t.api('POST', '/v1/webhook_endpoints', { body, idempotencyKey: key });
    const retry = await t.api('POST', '/v1/webhook_endpoints', { body, idempotencyKey: key });
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    const other = await t.api('POST', '/v1/webhook_endpoints', {
      body: { ...body, enabled_events: ['*'] },
      idempotencyKey: key,
    });
    expectError(other, 422, 'idempotency_key_reused');
    const list = await t.api('GET', '/v1/webhook_endpoints');
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([first.body.id]);
    // Without a key each POST is its own.
    expect((await t.api('POST', '/v1/webhook_endpoints', { body })).body.id).not.toBe(first.body.id);
  });

  it('takes an Idempotency-Key on POST /v1/reports: a retry asks for no second report', async () => {
    const key = randomUUID();
    const to = new Date();
    const body = { from: new Date(to.getTime() - 60_000).toISOString(), to: to.toISOString() };
    const first = await t.api('POST', '/v1/reports', { body, idempotencyKey: key });
    const retry = await t.api('POST', '/v1/reports', { body, idempotencyKey: key });
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('location')).toBe(`/v1/reports/${first.body.id}`);
    expectError(
      await t.api('POST', '/v1/reports', {
        body: { ...body, from: new Date(to.getTime() - 120_000).toISOString() },
        idempotencyKey: key,
      }),
      422,
      'idempotency_key_reused',
    );
  });

  it('escapes every text cell of the report CSV, payment_id and currency included', async () => {
    const account = t.system.keys.verify(TEST_API_KEY)?.accountId as string;
    const created = new Date();
    const event = createEvent(
      PaymentSucceeded,
      {
        payment_id: '=HYPERLINK("http://evil.example","x")',
        account_id: account,
        amount: 100,
        currency: '+A1',
        customer_email: 'a@example.com',
        description: null,
        card: { brand: 'visa', last4: '4242' },
        created_at: created.toISOString(),
      },
      { source: 'urn:syncopate:payments', orderingKey: 'pay_csv' },
    );
    // Straight onto the queue, as only the system's own services can.
    await t.system.transport.publish(event);
    await waitFor('the reports ledger to record it', async () =>
      (await t.system.journal.forEvents([event.id])).some(
        (record) => record.group === 'reports-ledger' && record.state === 'delivered',
      ),
    );
    const body = {
      from: new Date(created.getTime() - 60_000).toISOString(),
      to: new Date(created.getTime() + 60_000).toISOString(),
    };
    const report = await t.api('POST', '/v1/reports', { body });
    const ready = await waitFor('the report', async () => {
      const read = await t.api('GET', `/v1/reports/${report.body.id}`);
      return read.body.status === 'ready' ? read.body : undefined;
    });
    const csv = (await t.api('GET', ready.download_url)).body as string;
    const line = csv.split('\r\n').find((l) => l.includes('HYPERLINK')) as string;
    expect(line.startsWith(`"'=HYPERLINK(""http://evil.example"",""x"")"`)).toBe(true);
    expect(line).toContain(",'+A1,");
    expect(csv).toContain(`TOTAL,,"1 succeeded, 0 failed",'+A1,`);
  });
});

describe('finding 6: answers that must not echo the inside', () => {
  /** A stand-in gateway on real HTTP whose answer the test chooses. */
  let answer: (body: { amount: number; currency: string }) => { status: number; body: unknown };
  let gateway: Server;
  let t: TestSystem;
  beforeAll(async () => {
    gateway = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        if (request.method !== 'POST') return response.writeHead(404).end();
        const { status, body } = answer(JSON.parse(text));
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    t = await startTestSystem({
      modules: [paymentsModule],
      env: { GATEWAY_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, GATEWAY_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await new Promise((resolve) => gateway.close(resolve));
  });

  const pay = () => t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
  const charge = (body: { amount: number; currency: string }) => ({
    id: `ch_${randomUUID()}`,
    object: 'charge',
    status: 'succeeded',
    amount: body.amount,
    amount_refunded: 0,
    currency: body.currency,
    description: null,
    card: { brand: 'visa', last4: '4242', token: 'tok_x' },
    failure_code: null,
    failure_message: null,
    created: new Date().toISOString(),
  });

  it('validates the gateway’s answers instead of casting them: one off its contract leaves the payment processing', async () => {
    answer = (body) => ({ status: 201, body: { ...charge(body), status: 42, card: { brand: '<script>' } } });
    const malformed = await pay();
    expect([malformed.status, malformed.body.status]).toEqual([202, 'processing']);
    answer = (body) => ({ status: 201, body: { ...charge(body), amount: body.amount * 100 } });
    const otherAmount = await pay();
    expect([otherAmount.status, otherAmount.body.status]).toEqual([202, 'processing']);
    answer = () => ({ status: 201, body: 'not a charge' });
    expect((await pay()).status).toBe(202);
    // The legitimate answer still makes a payment.
    answer = (body) => ({ status: 201, body: charge(body) });
    const good = await pay();
    expect([good.status, good.body.status, good.body.card]).toEqual([
      201,
      'succeeded',
      { brand: 'visa', last4: '4242' },
    ]);
  });

  it('answers 503 when the gateway is unreachable without echoing the internal error or address', async () => {
    const port = (gateway.address() as AddressInfo).port;
    await new Promise((resolve) => gateway.close(resolve));
    gateway.closeAllConnections();
    const answer = await pay();
    expectError(answer, 503, 'gateway_unavailable');
    expect(answer.headers.get('retry-after')).not.toBeNull();
    expect(answer.body.error.message).toMatch(/nothing was charged/);
    for (const inside of ['ECONNREFUSED', '127.0.0.1', String(port), 'connect']) {
      expect(answer.body.error.message).not.toContain(inside);
    }
  });
});
