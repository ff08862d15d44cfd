import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationsOptions } from '../../../src/services/notifications/index.js';
import { verifySignature } from '../../../src/services/notifications/index.js';
import { waitFor } from '../../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { createEndpoint, type Harness, startNotifications } from './harness.js';

const open: Array<{ stop(): Promise<void> } | WebhookReceiver> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await ('stop' in thing ? thing.stop() : thing.close());
});

async function start(options: Partial<NotificationsOptions> = {}): Promise<Harness> {
  const harness = await startNotifications(options);
  open.push(harness);
  return harness;
}

async function receiver(status?: (n: number) => number): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(status ? { status } : {});
  open.push(started);
  return started;
}

const eventIds = (r: WebhookReceiver) => r.requests.map((request) => JSON.parse(request.body).id as string);

describe('webhook delivery', () => {
  it('POSTs the event once to a subscribed endpoint, signed with its secret', async () => {
    const harness = await start();
    const merchant = harness.merchant();
    const endpoint = await receiver();
    const { id, secret } = await createEndpoint(harness, {
      key: merchant.secret,
      url: endpoint.url,
      enabledEvents: ['payment.succeeded'],
    });

    const event = await harness.publish({
      type: 'payment.succeeded',
      accountId: merchant.accountId,
      paymentId: 'pay_1',
    });
    await waitFor('the webhook', () => endpoint.requests.length >= 1);
    const [request] = endpoint.requests;
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(
      verifySignature({ header: request?.headers['syncopate-signature'] as string, body: request?.body ?? '', secret }),
    ).toEqual({
      valid: true,
      timestamp: expect.any(Number),
    });
    expect(JSON.parse(request?.body ?? '')).toEqual({
      id: event.id,
      object: 'event',
      type: 'payment.succeeded',
      created: Math.floor(Date.parse(event.time) / 1000),
      data: { object: event.data },
    });

    // A later event of the same payment is handled only after this one settled: by the time it
    // arrives, any second send of the first would have happened.
    const next = await harness.publish({
      type: 'payment.succeeded',
      accountId: merchant.accountId,
      paymentId: 'pay_1',
    });
    await waitFor('the next event', () => endpoint.requests.length >= 2);
    expect(eventIds(endpoint)).toEqual([event.id, next.id]);
    expect(await harness.service.deliveriesOf(event.id)).toEqual([
      expect.objectContaining({ endpointId: id, status: 'delivered', attempts: 1, lastStatus: 200 }),
    ]);
  });

  it('retries an endpoint that failed until it answers 2xx, without re-sending to the one that took it', async () => {
    const harness = await start();
    const merchant = harness.merchant();
    const flaky = await receiver((n) => (n <= 2 ? 500 : 200));
    const healthy = await receiver();
    const flakyEndpoint = await createEndpoint(harness, { key: merchant.secret, url: flaky.url, enabledEvents: ['*'] });
    await createEndpoint(harness, { key: merchant.secret, url: healthy.url, enabledEvents: ['payment.succeeded'] });

    const event = await harness.publish({
      type: 'payment.succeeded',
      accountId: merchant.accountId,
      paymentId: 'pay_2',
    });
    await waitFor('the third try to succeed', () => flaky.requests.length >= 3);
    expect(flaky.requests.map((r) => r.status)).toEqual([500, 500, 200]);

    const sentinel = await harness.publish({
      type: 'payment.succeeded',
      accountId: merchant.accountId,
      paymentId: 'pay_2',
    });
    await waitFor('the sentinel at both', () => flaky.requests.length >= 4 && healthy.requests.length >= 2);
    expect(eventIds(healthy)).toEqual([event.id, sentinel.id]);
    expect(eventIds(flaky)).toEqual([event.id, event.id, event.id, sentinel.id]);
    expect(await harness.service.deliveriesOf(event.id)).toContainEqual(
      expect.objectContaining({ endpointId: flakyEndpoint.id, status: 'delivered', attempts: 3, lastStatus: 200 }),
    );
    expect(await harness.context.transport.deadLetters.count('webhooks')).toBe(0);
  });

  it('dead-letters the event after the last attempt when an endpoint keeps failing, naming it and its status', async () => {
    const harness = await start({ maxAttempts: 3 });
    const merchant = harness.merchant();
    const broken = await receiver(() => 500);
    const healthy = await receiver();
    const brokenEndpoint = await createEndpoint(harness, {
      key: merchant.secret,
      url: broken.url,
      enabledEvents: ['*'],
    });
    await createEndpoint(harness, { key: merchant.secret, url: healthy.url, enabledEvents: ['*'] });

    const event = await harness.publish({ type: 'payment.failed', accountId: merchant.accountId, paymentId: 'pay_3' });
    await waitFor('the dead letter', async () => (await harness.context.transport.deadLetters.count('webhooks')) === 1);
    const [dead] = (await harness.context.transport.deadLetters.list('webhooks')).items;
    expect(dead?.eventId).toBe(event.id);
    expect(dead?.attempts).toBe(3);
    expect(dead?.reason).toContain(brokenEndpoint.id);
    expect(dead?.reason).toContain('HTTP 500');
    expect(broken.requests).toHaveLength(3);
    expect(eventIds(healthy)).toEqual([event.id]);
    expect(await harness.service.deliveriesOf(event.id)).toContainEqual(
      expect.objectContaining({ endpointId: brokenEndpoint.id, status: 'pending', attempts: 3, lastStatus: 500 }),
    );
  });

  it("sends nothing to another account's endpoints, nor to endpoints not subscribed to the type", async () => {
    const harness = await start();
    const merchant = harness.merchant();
    const stranger = harness.merchant();
    const succeededOnly = await receiver();
    const failedOnly = await receiver();
    const strangers = await receiver();
    await createEndpoint(harness, {
      key: merchant.secret,
      url: succeededOnly.url,
      enabledEvents: ['payment.succeeded'],
    });
    await createEndpoint(harness, { key: merchant.secret, url: failedOnly.url, enabledEvents: ['payment.failed'] });
    await createEndpoint(harness, { key: stranger.secret, url: strangers.url, enabledEvents: ['*'] });

    const succeeded = await harness.publish({
      type: 'payment.succeeded',
      accountId: merchant.accountId,
      paymentId: 'pay_4',
    });
    const refunded = await harness.publish({
      type: 'payment.refunded',
      accountId: merchant.accountId,
      paymentId: 'pay_4',
    });
    // Same payment, so handled after the two above: once it is in, they have been settled.
    const failed = await harness.publish({ type: 'payment.failed', accountId: merchant.accountId, paymentId: 'pay_4' });
    await waitFor('the last event', () => failedOnly.requests.length >= 1 && succeededOnly.requests.length >= 1);
    expect(eventIds(succeededOnly)).toEqual([succeeded.id]);
    expect(eventIds(failedOnly)).toEqual([failed.id]);
    expect(strangers.requests).toHaveLength(0);
    expect(await harness.service.deliveriesOf(refunded.id)).toEqual([]);

    // The stranger's endpoint works: it gets the stranger's own events, of the types the merchant's
    // endpoints take, and they do not get them.
    const own = await harness.publish({ type: 'payment.succeeded', accountId: stranger.accountId, paymentId: 'pay_5' });
    const ownLater = await harness.publish({
      type: 'payment.failed',
      accountId: stranger.accountId,
      paymentId: 'pay_5',
    });
    await waitFor("the stranger's events", () => strangers.requests.length >= 2);
    expect(eventIds(strangers)).toEqual([own.id, ownLater.id]);
    expect(succeededOnly.requests).toHaveLength(1);
    expect(failedOnly.requests).toHaveLength(1);
  });

  it('does not send to a deleted endpoint', async () => {
    const harness = await start();
    const merchant = harness.merchant();
    const kept = await receiver();
    const dropped = await receiver();
    await createEndpoint(harness, { key: merchant.secret, url: kept.url, enabledEvents: ['*'] });
    const gone = await createEndpoint(harness, { key: merchant.secret, url: dropped.url, enabledEvents: ['*'] });
    const deleted = await harness.api({
      key: merchant.secret,
      method: 'DELETE',
      path: `/v1/webhook_endpoints/${gone.id}`,
    });
    expect(deleted.status).toBe(200);

    const event = await harness.publish({
      type: 'payment.succeeded',
      accountId: merchant.accountId,
      paymentId: 'pay_6',
    });
    // A later event of the same payment is handled only after the first settled: once it is in,
    // every request the first could have made has been made.
    const later = await harness.publish({
      type: 'payment.refunded',
      accountId: merchant.accountId,
      paymentId: 'pay_6',
    });
    await waitFor('both at the kept endpoint', () => kept.requests.length >= 2);
    expect(eventIds(kept)).toEqual([event.id, later.id]);
    expect(dropped.requests).toHaveLength(0);
  });

  it('counts an endpoint that does not answer in time as failed, and names the timeout', async () => {
    const harness = await start({ maxAttempts: 1, requestTimeoutMs: 200 });
    const merchant = harness.merchant();
    const silent = await startSilentServer();
    open.push(silent);
    const endpoint = await createEndpoint(harness, { key: merchant.secret, url: silent.url, enabledEvents: ['*'] });

    await harness.publish({ type: 'payment.succeeded', accountId: merchant.accountId, paymentId: 'pay_7' });
    await waitFor('the dead letter', async () => (await harness.context.transport.deadLetters.count('webhooks')) === 1);
    const [dead] = (await harness.context.transport.deadLetters.list('webhooks')).items;
    expect(dead?.reason).toContain(`${endpoint.id} no answer within 200 ms`);
  });

  it('an injected fault fails the attempt before any request; replayed, the event is delivered once', async () => {
    const harness = await start({ maxAttempts: 2 });
    const merchant = harness.merchant();
    const endpoint = await receiver();
    await createEndpoint(harness, { key: merchant.secret, url: endpoint.url, enabledEvents: ['*'] });
    harness.context.faults.set({ errorRate: 1 });

    const event = await harness.publish({
      type: 'payment.succeeded',
      accountId: merchant.accountId,
      paymentId: 'pay_8',
    });
    await waitFor('the dead letter', async () => (await harness.context.transport.deadLetters.count('webhooks')) === 1);
    expect(endpoint.requests).toHaveLength(0);

    harness.context.faults.set({});
    await harness.context.transport.deadLetters.replay('webhooks', event.id);
    await waitFor('the replayed event', () => endpoint.requests.length >= 1);
    expect(eventIds(endpoint)).toEqual([event.id]);
  });
});

/** Accepts connections and never answers: an endpoint that hangs. */
async function startSilentServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
