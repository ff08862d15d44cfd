import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { verifySignature } from '../../src/services/notifications/index.js';
import { paymentBody, startTestSystem, TEST_API_KEY, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { expectError } from './support.js';

/**
 * This machine's own name: resolved by the system's resolver (/etc/hosts, DNS) to an address of the
 * machine itself, loopback or a private one, never a public one. It stands for any name an attacker
 * points at the inside: registration resolves it and refuses it.
 */
const OWN_NAME = hostname();

/** A TCP listener on every interface that counts who connects: it must stay at zero. */
async function countingListener(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const register = (t: TestSystem, url: string) =>
  t.api('POST', '/v1/webhook_endpoints', { body: { url, enabled_events: ['*'] } });

describe('finding 4: server-side request forgery through webhook URLs', () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem({ modules: ALL_MODULES });
  });
  afterAll(() => t?.stop());

  it('refuses at registration, with a 400 naming the rule: http, loopback, private, link-local, multicast, and names for them', async () => {
    const refused: [string, RegExp][] = [
      ['http://example.com/hooks', /must use https:\/\//],
      [
        'https://127.0.0.1:8080/hooks',
        /127\.0\.0\.1, a loopback address: webhooks go only to public internet addresses/,
      ],
      ['https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address/],
      ['https://10.1.2.3/hooks', /10\.1\.2\.3, a private network address/],
      ['https://192.168.0.10/hooks', /a private network address/],
      ['https://[::1]/hooks', /::1, a loopback address/],
      ['https://[::ffff:127.0.0.1]/hooks', /loopback/],
      ['https://[fd00::1]/hooks', /a private network address/],
      ['https://224.0.0.1/hooks', /a multicast address/],
      ['https://0.0.0.0/hooks', /the unspecified address/],
      ['https://100.64.0.1/hooks', /a carrier-grade NAT address/],
      ['https://localhost/hooks', /localhost, a loopback name/],
      ['https://hooks.localhost./hooks', /a loopback name/],
      ['https://user:secret@example.com/hooks', /must not carry a user name or password/],
    ];
    for (const [url, rule] of refused) {
      const answer = await register(t, url);
      expectError(answer, 400, 'url_not_allowed');
      expect(answer.body.error.param).toBe('url');
      expect(answer.body.error.message, url).toMatch(rule);
    }
    const list = await t.api('GET', '/v1/webhook_endpoints');
    expect(list.body.data).toEqual([]);
  });

  it('resolves a name at registration and refuses it when it points inside', async () => {
    const addresses = await lookup(OWN_NAME, { all: true });
    // The precondition: this machine's name resolves to the machine itself.
    expect(addresses.every(({ address }) => ipaddr.process(address).range() !== 'unicast')).toBe(true);
    const answer = await register(t, `https://${OWN_NAME}:8443/hooks`);
    expectError(answer, 400, 'url_not_allowed');
    expect(answer.body.error.message).toContain(`${OWN_NAME} resolves to`);
  });

  it('checks the resolved address again at every connection: a name that now points inside is never connected to', async () => {
    // As after DNS rebinding: the name resolved to a public address when it was registered, and
    // to this machine now. The row is written as registration would have written it.
    const listener = await countingListener();
    try {
      const account = t.system.keys.verify(TEST_API_KEY)?.accountId;
      const db = new Database(join(t.dataDir, 'notifications.db'));
      db.prepare(
        'INSERT INTO webhook_endpoints (id, account_id, url, enabled_events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(
        'we_rebound',
        account,
        `https://${OWN_NAME}:${listener.port}/hooks`,
        '["*"]',
        'whsec_x',
        new Date().toISOString(),
      );
      db.close();

      const paid = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
      expect(paid.status).toBe(201);
      const webhooks = await waitFor(
        'the webhook attempt to fail',
        async () => {
          const effects = await t.api('GET', `/v1/payments/${paid.body.id}/side_effects`);
          const entry = effects.body.data.find((e: { group: string }) => e.group === 'webhooks');
          return entry?.last_error ? entry : undefined;
        },
        30_000,
      );
      expect(webhooks.last_error).toMatch(
        new RegExp(`${OWN_NAME} resolves to .*webhooks go only to public internet addresses`),
      );
      // Nothing a port scanner could read: the error names the rule, not how the port answered.
      expect(webhooks.last_error).not.toMatch(/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH/);
      expect(listener.connections()).toBe(0);
    } finally {
      await listener.close();
    }
  });
});

describe('finding 4, the legitimate path: a local receiver with the development setting', () => {
  it('with WEBHOOK_ALLOW_LOCAL=true, an http:// receiver on this machine gets the signed event', async () => {
    const receiver = await startWebhookReceiver();
    const t = await startTestSystem({ modules: ALL_MODULES, env: { WEBHOOK_ALLOW_LOCAL: 'true' } });
    try {
      const endpoint = await register(t, receiver.url);
      expect(endpoint.status).toBe(201);
      // The other ranges stay closed even then: the cloud's metadata address is never a receiver.
      expectError(await register(t, 'http://169.254.169.254/latest/meta-data/'), 400, 'url_not_allowed');
      const paid = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
      expect(paid.status).toBe(201);
      const request = await waitFor('the webhook', () => receiver.requests[0]);
      const verified = verifySignature({
        header: request.headers['syncopate-signature'] as string,
        body: request.body,
        secret: endpoint.body.secret,
      });
      expect(verified.valid).toBe(true);
      expect(JSON.parse(request.body).data.object.payment_id).toBe(paid.body.id);
    } finally {
      await t.stop();
      await receiver.close();
    }
  });
});
