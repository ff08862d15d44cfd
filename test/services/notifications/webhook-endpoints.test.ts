import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEndpoint, type Harness, startNotifications } from './harness.js';

let harness: Harness;
beforeEach(async () => {
  harness = await startNotifications();
});
afterEach(async () => {
  await harness.stop();
});

const list = async (key: string) =>
  (await harness.api({ key, method: 'GET', path: '/v1/webhook_endpoints' })).body as {
    object: string;
    data: Array<Record<string, unknown>>;
  };

describe('webhook endpoints API', () => {
  it('creates an endpoint, shows its secret once, lists it without the secret', async () => {
    const { secret: key } = harness.merchant();
    const created = await harness.api({
      key,
      method: 'POST',
      path: '/v1/webhook_endpoints',
      body: { url: 'https://merchant.example/hooks', enabled_events: ['payment.succeeded', 'payment.refunded'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^we_/),
      object: 'webhook_endpoint',
      url: 'https://merchant.example/hooks',
      enabled_events: ['payment.succeeded', 'payment.refunded'],
      secret: expect.stringMatching(/^whsec_.{20,}/),
      created_at: expect.any(String),
    });
    const listed = await list(key);
    expect(listed.object).toBe('list');
    expect(listed.data).toEqual([
      {
        id: created.body.id,
        object: 'webhook_endpoint',
        url: 'https://merchant.example/hooks',
        enabled_events: ['payment.succeeded', 'payment.refunded'],
        created_at: created.body.created_at,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.body.secret);
  });

  it.each([
    ['an unknown field', { url: 'https://m.example/h', enabled_events: ['*'], secret: 'mine' }, 'parameter_unknown'],
    ['an ftp:// url', { url: 'ftp://m.example/h', enabled_events: ['*'] }, 'parameter_invalid'],
    ['a url that is not one', { url: 'not a url', enabled_events: ['*'] }, 'parameter_invalid'],
    [
      'a url over 2,048 characters',
      { url: `https://m.example/${'a'.repeat(2_040)}`, enabled_events: ['*'] },
      'parameter_invalid',
    ],
    ['empty enabled_events', { url: 'https://m.example/h', enabled_events: [] }, 'parameter_invalid'],
    [
      'an unknown event type',
      { url: 'https://m.example/h', enabled_events: ['payment.exploded'] },
      'parameter_invalid',
    ],
    ['"*" beside a type', { url: 'https://m.example/h', enabled_events: ['*', 'payment.failed'] }, 'parameter_invalid'],
    ['no url', { enabled_events: ['*'] }, 'parameter_missing'],
  ])('refuses %s with a 400 in the error shape and stores nothing', async (_case, body, code) => {
    const { secret: key } = harness.merchant();
    const answer = await harness.api({ key, method: 'POST', path: '/v1/webhook_endpoints', body });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: { type: 'invalid_request_error', code, message: expect.any(String), param: expect.any(String) },
    });
    expect((await list(key)).data).toEqual([]);
  });

  it('refuses a 17th endpoint for one account with a 400, and counts per account', async () => {
    const first = harness.merchant();
    for (let i = 0; i < 16; i++) {
      await createEndpoint(harness, { key: first.secret, url: `https://m.example/${i}`, enabledEvents: ['*'] });
    }
    const refused = await harness.api({
      key: first.secret,
      method: 'POST',
      path: '/v1/webhook_endpoints',
      body: { url: 'https://m.example/16', enabled_events: ['*'] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'endpoint_limit_reached' });
    expect((await list(first.secret)).data).toHaveLength(16);
    const other = harness.merchant();
    await createEndpoint(harness, { key: other.secret, url: 'https://other.example/h', enabledEvents: ['*'] });
  });

  it("deletes the caller's endpoint, and answers 404 for another account's, which stays", async () => {
    const owner = harness.merchant();
    const stranger = harness.merchant();
    const endpoint = await createEndpoint(harness, {
      key: owner.secret,
      url: 'https://m.example/h',
      enabledEvents: ['*'],
    });
    const foreign = await harness.api({
      key: stranger.secret,
      method: 'DELETE',
      path: `/v1/webhook_endpoints/${endpoint.id}`,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
    expect((await list(owner.secret)).data).toHaveLength(1);
    expect((await list(stranger.secret)).data).toEqual([]);

    const removed = await harness.api({
      key: owner.secret,
      method: 'DELETE',
      path: `/v1/webhook_endpoints/${endpoint.id}`,
    });
    expect(removed).toEqual({ status: 200, body: { id: endpoint.id, object: 'webhook_endpoint', deleted: true } });
    expect((await list(owner.secret)).data).toEqual([]);
    const again = await harness.api({
      key: owner.secret,
      method: 'DELETE',
      path: `/v1/webhook_endpoints/${endpoint.id}`,
    });
    expect(again.status).toBe(404);
  });

  it('requires an API key', async () => {
    const response = await fetch(`${harness.url}/v1/webhook_endpoints`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: 'authentication_error', code: 'missing_api_key' } });
    const wrong = await harness.api({ key: 'sk_test_not_a_key', method: 'GET', path: '/v1/webhook_endpoints' });
    expect(wrong.status).toBe(401);
  });
});
