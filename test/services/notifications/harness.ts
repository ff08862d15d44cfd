import type { AddressInfo } from 'node:net';
import type { Envelope } from '@syncopate/messaging';
import type { IssuedKey } from '../../../src/platform/auth/api-keys.js';
import { createHttpServer, type HttpServer } from '../../../src/platform/http/server.js';
import {
  createNotifications,
  type NotificationsOptions,
  type NotificationsService,
  notificationsModule,
} from '../../../src/services/notifications/index.js';
import { paymentFacts, paymentFailed, paymentRefunded, paymentSucceeded } from '../../support/payment-events.js';
import { createTestContext, type TestContext } from '../../support/service-context.js';

export interface Harness {
  context: TestContext;
  service: NotificationsService;
  server: HttpServer;
  url: string;
  /** A new API key, and with it a new account. */
  merchant(): IssuedKey;
  api(input: { key: string; method: string; path: string; body?: unknown }): Promise<{ status: number; body: ApiBody }>;
  publish(input: PaymentInput): Promise<Envelope>;
  stop(): Promise<void>;
}

/** An answer's JSON, typed loosely: the tests check it with expect(). */
export interface ApiBody {
  id?: string;
  secret?: string;
  created_at?: string;
  error?: { type: string; code: string; message: string; param?: string };
  [field: string]: unknown;
}

export interface PaymentInput {
  type: 'payment.succeeded' | 'payment.failed' | 'payment.refunded';
  accountId: string;
  paymentId: string;
}

/** The notifications service on a real server and a real SQLite transport; retries come fast. */
export async function startNotifications(options: Partial<NotificationsOptions> = {}): Promise<Harness> {
  const context = await createTestContext({ topology: [notificationsModule], service: 'notifications' });
  const service = await createNotifications(context, {
    maxAttempts: 5,
    backoff: { initialDelayMs: 10, maxDelayMs: 50 },
    // The receivers are local servers: WEBHOOK_ALLOW_LOCAL's development setting.
    allowLocalUrls: true,
    ...options,
  });
  const server = createHttpServer({ logger: context.logger });
  service.routes?.(server);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = server.server.address() as AddressInfo;
  await service.start?.();
  let stopped = false;
  return {
    context,
    service,
    server,
    url: `http://127.0.0.1:${port}`,
    merchant: () => context.keys.issue('api'),
    async api({ key, method, path, body }) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async publish(input) {
      const event = paymentEvent(input);
      await context.transport.publish(event);
      return event;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.stop?.(1_000);
      await server.close();
      await context.close();
    },
  };
}

export function paymentEvent({ type, accountId, paymentId }: PaymentInput): Envelope {
  const facts = paymentFacts({ payment_id: paymentId, account_id: accountId, created_at: new Date().toISOString() });
  switch (type) {
    case 'payment.succeeded':
      return paymentSucceeded(facts);
    case 'payment.failed':
      return paymentFailed(facts);
    case 'payment.refunded':
      return paymentRefunded(facts, { amount: 500, createdAt: new Date().toISOString() });
  }
}

/** Creates an endpoint and returns the API's answer (with the secret). */
export async function createEndpoint(
  harness: Harness,
  input: { key: string; url: string; enabledEvents: string[] },
): Promise<{ id: string; secret: string }> {
  const { status, body } = await harness.api({
    key: input.key,
    method: 'POST',
    path: '/v1/webhook_endpoints',
    body: { url: input.url, enabled_events: input.enabledEvents },
  });
  if (status !== 201) throw new Error(`creating an endpoint answered ${status}: ${JSON.stringify(body)}`);
  return body as { id: string; secret: string };
}
