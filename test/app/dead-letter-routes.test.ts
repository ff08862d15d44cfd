import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modulesWithEmail } from '../support/quick-email.js';
import { jsonEvents, openEventStream } from '../support/sse.js';
import { paymentBody, startTestSystem, TEST_ADMIN_KEY, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';

/** Email gives up after three quick attempts, so a dead letter comes within a second. */
const modules = modulesWithEmail();

let test: TestSystem;
const admin = (method: string, path: string) => test.api(method, path, { key: TEST_ADMIN_KEY });
const pay = async (key?: string) => {
  const paid = await test.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID(), key });
  expect(paid.status).toBe(201);
  return paid.body.id as string;
};
const emailState = async (paymentId: string) =>
  (await test.api('GET', `/v1/payments/${paymentId}/side_effects`)).body.data.find((e: any) => e.group === 'email')
    ?.state;
const deadLetterOf = (paymentId: string) =>
  waitFor(`the receipt of ${paymentId} dead-lettered`, async () => {
    const page = await admin('GET', '/v1/admin/dead_letters/email');
    return page.body.data.find((letter: any) => letter.event?.subject === paymentId);
  });

beforeAll(async () => {
  test = await startTestSystem({ modules });
});
afterAll(() => test?.stop());

describe('the queues and dead-letter admin routes', () => {
  it('list, inspect and replay a dead letter; the queue figures count what happened', async () => {
    await test.setFaults('email', { down: true });
    const paymentId = await pay();
    const letter = await deadLetterOf(paymentId);
    expect(letter).toMatchObject({ object: 'dead_letter', group: 'email', type: 'payment.succeeded', attempts: 3 });
    expect(letter.reason).toContain('injected fault in email (down)');

    const one = await admin('GET', `/v1/admin/dead_letters/email/${letter.event_id}`);
    expect(one.status).toBe(200);
    expect(one.body.event.data.payment_id).toBe(paymentId);

    const queues = await admin('GET', '/v1/admin/queues');
    expect(queues.status).toBe(200);
    const email = queues.body.data.find((q: any) => q.group === 'email');
    expect(email.dead_lettered).toBe(1);
    expect(email.this_process).toMatchObject({ retries: 2, failed_attempts: 3, dead_lettered: 1 });
    expect(queues.body.data.map((q: any) => q.group)).toEqual(
      expect.arrayContaining(['email', 'analytics', 'reports-ledger', 'reports', 'webhooks', 'live']),
    );

    await test.setFaults('email', { down: false });
    const replayed = await admin('POST', `/v1/admin/dead_letters/email/${letter.event_id}/replay`);
    expect(replayed.body).toEqual({ object: 'replay', group: 'email', replayed: 1 });
    await waitFor('the replayed receipt delivered', async () => (await emailState(paymentId)) === 'delivered');
    expect((await admin('GET', '/v1/admin/dead_letters/email')).body.total).toBe(0);
  });

  it('purges one, replays all and purges all, journaled', async () => {
    await test.setFaults('email', { down: true });
    const [a, b, c] = [await pay(), await pay(), await pay()];
    const letterA = await deadLetterOf(a);
    await deadLetterOf(b);
    await deadLetterOf(c);
    const purged = await admin('DELETE', `/v1/admin/dead_letters/email/${letterA.event_id}`);
    expect(purged.body).toEqual({ object: 'purge', group: 'email', purged: 1 });
    expect(await emailState(a)).toBe('purged');
    expect((await admin('DELETE', `/v1/admin/dead_letters/email/${letterA.event_id}`)).status).toBe(404);

    const page = await admin('GET', '/v1/admin/dead_letters/email?limit=1');
    expect(page.body).toMatchObject({ total: 2, has_more: true });
    expect(page.body.data).toHaveLength(1);
    const next = await admin('GET', `/v1/admin/dead_letters/email?limit=1&after=${page.body.next_cursor}`);
    expect(next.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(next.body.data[0].event_id).not.toBe(page.body.data[0].event_id);

    // Still down: replayed, they fail again and come back to the dead-letter queue.
    expect((await admin('POST', '/v1/admin/dead_letters/email/replay_all')).body.replayed).toBe(2);
    await waitFor('both back in the dead-letter queue', async () => {
      const list = await admin('GET', '/v1/admin/dead_letters/email');
      return list.body.total === 2 && list.body.data.every((l: any) => l.attempts === 3);
    });
    expect((await admin('DELETE', '/v1/admin/dead_letters/email')).body.purged).toBe(2);
    expect(await emailState(b)).toBe('purged');
    expect(await emailState(c)).toBe('purged');
    await test.setFaults('email', { down: false });
  });

  it('answers in the error shape: unknown group or letter 404, an API key 401', async () => {
    const group = await admin('GET', '/v1/admin/dead_letters/nope');
    expect(group.status).toBe(404);
    expect(group.body.error).toMatchObject({ code: 'resource_missing', param: 'group' });
    const letter = await admin('GET', '/v1/admin/dead_letters/email/evt_missing');
    expect(letter.status).toBe(404);
    expect(letter.body.error).toMatchObject({ code: 'resource_missing', param: 'eventId' });
    expect((await admin('POST', '/v1/admin/dead_letters/email/evt_missing/replay')).status).toBe(404);
    expect((await test.api('GET', '/v1/admin/queues')).status).toBe(401);
    expect((await test.api('GET', '/v1/admin/dead_letters/email')).status).toBe(401);
    expect((await admin('GET', '/v1/admin/dead_letters/email?limit=501')).status).toBe(400);
  });
});

describe('the dashboard stream', () => {
  it("sends the caller's payment spans only, queue figures and faults to an admin", async () => {
    const other = test.system.keys.issue('api');
    const stream = await openEventStream(
      `${test.url}/v1/dashboard/stream?key=${encodeURIComponent('sk_test_first_account_key_0001')}&admin_key=${TEST_ADMIN_KEY}`,
    );
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
    const events = () => jsonEvents(stream);
    try {
      const theirs = await pay(other.secret);
      const mine = await pay();
      await waitFor('the email attempt of my payment', () =>
        events().some(
          (e) =>
            e.event === 'span' &&
            e.data.payment_id === mine &&
            e.data.span.attributes['messaging.consumer.group.name'] === 'email',
        ),
      );
      const spans = events().filter((e) => e.event === 'span');
      expect(spans.every((e) => e.data.payment_id === mine)).toBe(true);
      expect(spans.some((e) => e.data.payment_id === theirs)).toBe(false);
      // The request, the gateway call, the commit and the publish, not only the consumers.
      const names = spans.map((e) => e.data.span.name);
      expect(names).toEqual(expect.arrayContaining(['POST /v1/payments', 'create payment.succeeded']));
      expect(events().some((e) => e.event === 'queues' && e.data.some((q: any) => q.group === 'email'))).toBe(true);
      expect(events().find((e) => e.event === 'faults')?.data).toContainEqual(
        expect.objectContaining({ service: 'email', down: false }),
      );
    } finally {
      await stream.disconnect();
    }
    const refused = await fetch(
      `${test.url}/v1/dashboard/stream?key=sk_test_first_account_key_0001&admin_key=${other.secret}`,
    );
    expect(refused.status).toBe(401);
  });
});
