import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from '../../src/app/system.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { sample, scrape } from '../support/metrics.js';
import { modulesWithEmail } from '../support/quick-email.js';
import { paymentBody, startTestSystem, TEST_ADMIN_KEY, TEST_API_KEY, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';

/** Email gives up after three quick attempts, so a dead letter comes within a second. */
const modules = modulesWithEmail();

describe('metrics after a known workload', () => {
  let system: TestSystem | undefined;
  afterAll(() => system?.stop());

  it('counts requests by route and status, handled messages, failed attempts, retries, dead letters; reads queues and outboxes', async () => {
    system = await startTestSystem({ modules, faults: { email: { failNext: 2 } } });
    const pay = (body = paymentBody()) =>
      system?.api('POST', '/v1/payments', { body, idempotencyKey: randomUUID() }) as ReturnType<TestSystem['api']>;
    for (let i = 0; i < 5; i++) expect((await pay()).status).toBe(201);
    const declined = await pay(
      paymentBody({ card: { number: '4000000000000002', exp_month: 12, exp_year: 2034, cvc: '123' } }),
    );
    expect(declined.status).toBe(402);
    const metrics = () => scrape(system?.url ?? '');
    await waitFor('six receipts handled and acknowledged', async () => {
      const now = await metrics();
      return (
        sample(now, 'syncopate_messages_handled_total{group="email"}') === 6 &&
        sample(now, 'syncopate_queue_in_flight{group="email"}') === 0
      );
    });

    let text = await metrics();
    expect(
      sample(text, 'http_server_request_duration_seconds_count{method="POST",route="/v1/payments",status_code="201"}'),
    ).toBe(5);
    expect(
      sample(text, 'http_server_request_duration_seconds_count{method="POST",route="/v1/payments",status_code="402"}'),
    ).toBe(1);
    expect(
      sample(text, 'http_server_request_duration_seconds_count{method="POST",route="/v1/charges",status_code="201"}'),
    ).toBe(5);
    expect(sample(text, 'syncopate_message_failed_attempts_total{group="email"}')).toBe(2);
    expect(sample(text, 'syncopate_message_retries_total{group="email"}')).toBe(2);
    expect(sample(text, 'syncopate_messages_handled_total{group="analytics"}')).toBe(6);
    expect(sample(text, 'syncopate_handler_duration_seconds_count{group="email",outcome="ack"}')).toBe(6);
    expect(sample(text, 'syncopate_handler_duration_seconds_count{group="email",outcome="retry"}')).toBe(2);
    expect(sample(text, 'syncopate_queue_waiting{group="email"}')).toBe(0);
    expect(sample(text, 'syncopate_queue_in_flight{group="email"}')).toBe(0);
    expect(sample(text, 'syncopate_queue_dead_lettered{group="email"}')).toBe(0);
    // On the embedded transport the payment's event is a queue row of its own transaction: no outbox to relay.
    expect(sample(text, 'syncopate_outbox_backlog{service="payments"}')).toBeUndefined();
    expect(sample(text, 'syncopate_gateway_breaker_state')).toBe(0);

    // One receipt that never goes out: counted as dead-lettered, and the queue shows it.
    await system.setFaults('email', { errorRate: 1 });
    expect((await pay()).status).toBe(201);
    await waitFor(
      'a dead letter',
      async () => sample(await metrics(), 'syncopate_messages_dead_lettered_total{group="email"}') === 1,
    );
    text = await metrics();
    expect(sample(text, 'syncopate_queue_dead_lettered{group="email"}')).toBe(1);
    expect(sample(text, 'syncopate_message_failed_attempts_total{group="email"}')).toBe(5);

    // A consumer that stops: its events wait, and the lag shows.
    await system.setFaults('analytics', { latency: { fixedMs: 60_000 } });
    expect((await pay()).status).toBe(201);
    expect((await pay()).status).toBe(201);
    await waitFor('a waiting analytics event', async () => {
      const now = await metrics();
      return (
        (sample(now, 'syncopate_queue_waiting{group="analytics"}') ?? 0) +
          (sample(now, 'syncopate_queue_in_flight{group="analytics"}') ?? 0) >=
        2
      );
    });
  });
});

describe('health, traces and logs', () => {
  const lines: Record<string, unknown>[] = [];
  let system: RunningSystem | undefined;
  afterAll(() => system?.stop(2_000));

  it('readiness checks the databases and the transport; one payment reads back as one trace; log lines carry ids and no card', async () => {
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'syncopate-observe-')),
      PORT: '0',
      API_KEY: TEST_API_KEY,
      ADMIN_KEY: TEST_ADMIN_KEY,
      LOG_LEVEL: 'info',
    });
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    system = await startSystem({
      config,
      logger: createLogger({ level: 'info', destination }),
      services: modules,
      topology: modules,
    });
    const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };

    const ready = await fetch(`${system.url}/readyz`);
    expect(ready.status).toBe(200);
    const { checks } = (await ready.json()) as { checks: Record<string, boolean> };
    expect(checks).toMatchObject({ databases: true, transport: true });
    // On the embedded transport events are queue rows of the payment's own transaction: no relay to check.
    expect(checks).not.toHaveProperty('outbox_relays');

    const paid = await fetch(`${system.url}/v1/payments`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      body: JSON.stringify(paymentBody()),
    });
    expect(paid.status).toBe(201);
    const { id } = (await paid.json()) as { id: string };
    type Span = {
      traceId: string;
      spanId: string;
      parentSpanId: string | null;
      name: string;
      kind: string;
      startMs: number;
      attributes: Record<string, unknown>;
    };
    const spans = await waitFor('the trace with every consumer', async () => {
      const response = await fetch(`${system?.url}/v1/traces/${id}`, { headers });
      if (response.status !== 200) return undefined;
      const found = ((await response.json()) as { spans: Span[] }).spans;
      return found.filter((s) => s.name === 'process payment.succeeded').length === 5 ? found : undefined;
    });
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const named = (name: string) => spans.find((s) => s.name === name) as Span;
    const root = named('POST /v1/payments');
    expect(root.parentSpanId).toBeNull();
    expect(root.kind).toBe('server');
    const call = spans.find((s) => s.kind === 'client' && s.parentSpanId === root.spanId) as Span;
    expect(named('POST /v1/charges').parentSpanId).toBe(call.spanId);
    expect(named('create payment.succeeded').parentSpanId).toBe(root.spanId);
    // Nothing is sent: on the embedded transport the event is written as queue rows in the payment's transaction.
    expect(spans.some((s) => s.name.startsWith('send '))).toBe(false);
    for (const process of spans.filter((s) => s.name === 'process payment.succeeded')) {
      expect(process.parentSpanId).toBe(named('create payment.succeeded').spanId);
    }
    const starts = spans.map((s) => s.startMs);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const stranger = system.keys.issue('api');
    const hidden = await fetch(`${system.url}/v1/traces/${id}`, {
      headers: { authorization: `Bearer ${stranger.secret}` },
    });
    expect(hidden.status).toBe(404);

    const request = lines.find((l) => l.msg === 'request' && l.route === '/v1/payments' && l.method === 'POST');
    expect(request?.traceId).toBe(root.traceId);
    const attempts = lines.filter((l) => l.msg === 'handled' && l.paymentId === id);
    expect(new Set(attempts.map((l) => l.group))).toEqual(
      new Set(['email', 'analytics', 'reports-ledger', 'webhooks', 'live']),
    );
    for (const attempt of attempts) {
      expect(attempt.traceId).toBe(root.traceId);
      expect(attempt.eventId).toBe(named('create payment.succeeded').attributes['messaging.message.id']);
    }
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain('4242424242424242');
    expect(everything).not.toContain(TEST_API_KEY);

    // A transport that no longer answers makes the process not ready.
    await system.transport.close();
    const notReady = await fetch(`${system.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { checks: Record<string, boolean> }).checks.transport).toBe(false);
  });
});
