import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../src/app/cluster.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js';
import { createTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { paymentBody } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { systemTransports } from '../system/transports.js';

const KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;
const ERROR = 2;

const brokers = (await systemTransports()).filter(([name]) => name === 'rabbitmq' || name === 'nats');

describe.each(brokers)('one payment, one trace, across processes on %s', (_name, transportUrl) => {
  let receiver: OtlpReceiver;
  let smtp: TestSmtpServer;
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
    await smtp?.stop();
    await receiver?.stop();
  });

  it('links the request, the gateway call, the event and each email attempt (a retry too) by parent', async () => {
    receiver = await startOtlpReceiver();
    smtp = createTestSmtpServer();
    await smtp.start();
    cluster = await startCluster({
      port: 0,
      processes: { gateway: 1, payments: 1, email: 1 },
      env: {
        DATA_DIR: mkdtempSync(join(tmpdir(), 'syncopate-trace-')),
        TRANSPORT_URL: transportUrl(),
        SMTP_URL: smtp.url,
        // Payments answer 201 however slowly the gateway's process answers on a busy machine.
        GATEWAY_TIMEOUT_MS: '30000',
        LOG_LEVEL: 'error',
        API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // The first receipt attempt fails, so the trace must show a retry.
        FAULTS: JSON.stringify({ email: { failNext: 1 } }),
      },
      output: () => {},
    });

    const response = await fetch(`${cluster.url}/v1/payments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${cluster.apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify(paymentBody()),
    });
    expect(response.status).toBe(201);
    const payment = (await response.json()) as { id: string };

    const request = await waitFor('the payment request span', () =>
      receiver.spans.find((s) => s.kind === KIND.server && s.attributes['payment.id'] === payment.id),
    );
    const inTrace = () => receiver.spans.filter((s) => s.traceId === request.traceId);
    const attempts = await waitFor(
      'two email attempts in the trace',
      () => {
        const found = inTrace().filter(
          (s) => s.kind === KIND.consumer && s.attributes['messaging.consumer.group.name'] === 'email',
        );
        return found.length >= 2 ? found : undefined;
      },
      60_000,
    );
    await waitFor('the receipt', () => smtp.messages.length === 1);

    const spans = inTrace();
    const one = (what: string, match: (s: ReceivedSpan) => boolean) => {
      const found = spans.filter(match);
      expect(found, what).toHaveLength(1);
      return found[0] as ReceivedSpan;
    };
    expect(request.service).toBe('syncopate-payments');
    expect(request.name).toBe('POST /v1/payments');
    expect(request.parentSpanId).toBe('');

    const gatewayCall = one(
      'the outgoing gateway call',
      (s) => s.kind === KIND.client && s.parentSpanId === request.spanId,
    );
    const charge = one(
      'the gateway handling the charge',
      (s) => s.kind === KIND.server && s.name === 'POST /v1/charges',
    );
    expect(charge.service).toBe('syncopate-gateway');
    expect(charge.parentSpanId).toBe(gatewayCall.spanId);

    const created = one('the event created in the payment transaction', (s) => s.name === 'create payment.succeeded');
    expect(created.kind).toBe(KIND.producer);
    expect(created.parentSpanId).toBe(request.spanId);
    const sent = one('the event published by the relay', (s) => s.name === 'send payment.succeeded');
    expect(sent.kind).toBe(KIND.producer);
    expect(sent.parentSpanId).toBe(created.spanId);

    const byAttempt = [...attempts].sort(
      (a, b) => Number(a.attributes['syncopate.attempt']) - Number(b.attributes['syncopate.attempt']),
    );
    expect(byAttempt.map((s) => s.attributes['syncopate.attempt'])).toEqual([1, 2]);
    for (const attempt of byAttempt) {
      expect(attempt.service).toBe('syncopate-email');
      expect(attempt.name).toBe('process payment.succeeded');
      expect(attempt.parentSpanId).toBe(created.spanId);
      expect(attempt.attributes['messaging.message.id']).toBe(created.attributes['messaging.message.id']);
    }
    expect(byAttempt[0]?.attributes['syncopate.outcome']).toBe('retry');
    expect(byAttempt[0]?.statusCode).toBe(ERROR);
    expect(byAttempt[1]?.attributes['syncopate.outcome']).toBe('ack');
    expect(byAttempt[1]?.statusCode).not.toBe(ERROR);
  });
});
