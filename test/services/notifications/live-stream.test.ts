import { afterEach, describe, expect, it } from 'vitest';
import { type EventStream, openEventStream } from '../../support/sse.js';
import { waitFor } from '../../support/wait.js';
import { type Harness, startNotifications } from './harness.js';

const events = (stream: EventStream) => stream.frames.filter((f) => f.event !== undefined);

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('live event stream (SSE)', () => {
  it("streams the caller's account's events and not another account's", async () => {
    harness = await startNotifications();
    const alice = harness.merchant();
    const bob = harness.merchant();
    const aliceStream = await openEventStream(`${harness.url}/v1/events/stream`, {
      headers: { authorization: `Bearer ${alice.secret}` },
    });
    // EventSource cannot send headers: the key comes in the query.
    const bobStream = await openEventStream(`${harness.url}/v1/events/stream?key=${encodeURIComponent(bob.secret)}`);
    expect(aliceStream.response.status).toBe(200);
    expect(aliceStream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(bobStream.response.status).toBe(200);
    expect(harness.service.liveConnections()).toBe(2);

    // One payment id: the live group handles them in this order, so a leak would show between them.
    const a1 = await harness.publish({ type: 'payment.succeeded', accountId: alice.accountId, paymentId: 'pay_live' });
    const b1 = await harness.publish({ type: 'payment.failed', accountId: bob.accountId, paymentId: 'pay_live' });
    const a2 = await harness.publish({ type: 'payment.refunded', accountId: alice.accountId, paymentId: 'pay_live' });
    const b2 = await harness.publish({ type: 'payment.succeeded', accountId: bob.accountId, paymentId: 'pay_live' });

    await waitFor("alice's events", () => events(aliceStream).length >= 2);
    await waitFor("bob's events", () => events(bobStream).length >= 2);
    expect(events(aliceStream).map((f) => [f.event, f.id])).toEqual([
      ['payment.succeeded', a1.id],
      ['payment.refunded', a2.id],
    ]);
    expect(events(bobStream).map((f) => [f.event, f.id])).toEqual([
      ['payment.failed', b1.id],
      ['payment.succeeded', b2.id],
    ]);
    expect(JSON.parse(events(aliceStream)[0]?.data ?? '')).toEqual({
      id: a1.id,
      object: 'event',
      type: 'payment.succeeded',
      created: Math.floor(Date.parse(a1.time) / 1000),
      data: { object: a1.data },
    });
    await aliceStream.disconnect();
    await bobStream.disconnect();
  });

  it('sends a keep-alive comment while idle', async () => {
    harness = await startNotifications({ keepAliveMs: 50 });
    const stream = await openEventStream(`${harness.url}/v1/events/stream`, {
      headers: { authorization: `Bearer ${harness.merchant().secret}` },
    });
    await waitFor('a keep-alive', () => stream.frames.some((f) => f.comment === 'keep-alive'));
    await stream.disconnect();
  });

  it('forgets a stream when its client disconnects', async () => {
    harness = await startNotifications();
    const merchant = harness.merchant();
    const stream = await openEventStream(`${harness.url}/v1/events/stream`, {
      headers: { authorization: `Bearer ${merchant.secret}` },
    });
    expect(harness.service.liveConnections()).toBe(1);
    await stream.disconnect();
    await waitFor('the stream to be forgotten', () => harness?.service.liveConnections() === 0);
  });

  it('ends every stream on stop(), so the server can close', async () => {
    harness = await startNotifications();
    const stream = await openEventStream(`${harness.url}/v1/events/stream`, {
      headers: { authorization: `Bearer ${harness.merchant().secret}` },
    });
    expect(harness.service.liveConnections()).toBe(1);
    await harness.service.stop?.(1_000);
    await waitFor('the stream to end', () => stream.ended());
    expect(harness.service.liveConnections()).toBe(0);
    await harness.server.close();
  });

  it('refuses a stream without a valid key, in the error shape', async () => {
    harness = await startNotifications();
    const missing = await fetch(`${harness.url}/v1/events/stream`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { type: 'authentication_error', code: 'missing_api_key' } });
    const wrong = await fetch(`${harness.url}/v1/events/stream?key=sk_test_wrong`);
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key' } });
    expect(harness.service.liveConnections()).toBe(0);
  });
});
