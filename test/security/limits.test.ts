import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { paymentBody, startTestSystem, TEST_API_KEY, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { call, expectError } from './support.js';

describe('finding 5: rate limits and caps', () => {
  describe('the API rate limit, per key', () => {
    let t: TestSystem;
    beforeAll(async () => {
      t = await startTestSystem({ modules: ALL_MODULES, env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' } });
    });
    afterAll(() => t?.stop());

    it('answers 429 in the error shape past the limit, with Retry-After and the RateLimit headers; another key is not held back', async () => {
      const remaining: string[] = [];
      for (let i = 0; i < 5; i++) {
        const answer = await call(t.url, 'GET', '/v1/payments', { key: TEST_API_KEY });
        expect(answer.status).toBe(200);
        expect(answer.headers.get('ratelimit-limit')).toBe('5');
        remaining.push(answer.headers.get('ratelimit-remaining') ?? '');
      }
      expect(remaining).toEqual(['4', '3', '2', '1', '0']);
      const limited = await call(t.url, 'GET', '/v1/payments', { key: TEST_API_KEY });
      expectError(limited, 429, 'rate_limited');
      expect(limited.body.error.type).toBe('rate_limit_error');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      // A payment is refused the same way: no gateway call, nothing stored.
      const payment = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
      expectError(payment, 429, 'rate_limited');

      const other = t.system.keys.issue('api');
      expect((await call(t.url, 'GET', '/v1/payments', { key: other.secret })).status).toBe(200);
    });

    it('counts requests without a live key per client address, so guessing keys is limited too', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push((await call(t.url, 'GET', '/v1/payments', { key: `sk_test_guess_${i}_000000000000` })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    });
  });

  describe('Server-Sent Events streams, per key', () => {
    let t: TestSystem;
    const open: AbortController[] = [];
    beforeAll(async () => {
      t = await startTestSystem({ modules: ALL_MODULES, env: { SSE_MAX_STREAMS_PER_KEY: '2' } });
    });
    afterAll(async () => {
      for (const controller of open) controller.abort();
      await t?.stop();
    });

    const stream = async (path: string, key: string) => {
      const controller = new AbortController();
      open.push(controller);
      const response = await fetch(`${t.url}${path}`, {
        headers: { authorization: `Bearer ${key}` },
        signal: controller.signal,
      });
      return { response, close: () => controller.abort() };
    };

    it('refuses a key a stream past its maximum with a 429, leaves other keys alone, and admits it again once one closes', async () => {
      for (const path of ['/v1/events/stream', '/v1/dashboard/stream']) {
        const first = await stream(path, TEST_API_KEY);
        const second = await stream(path, TEST_API_KEY);
        expect([first.response.status, second.response.status]).toEqual([200, 200]);
        const third = await stream(path, TEST_API_KEY);
        const body = await third.response.json();
        expectError({ status: third.response.status, body }, 429, 'too_many_streams');

        const other = t.system.keys.issue('api');
        expect((await stream(path, other.secret)).response.status).toBe(200);

        first.close();
        await waitFor('a slot to free', async () => {
          const again = await stream(path, TEST_API_KEY);
          if (again.response.status === 200) return true;
          await again.response.body?.cancel();
          return false;
        });
      }
    });
  });

  describe('reports, per account', () => {
    let t: TestSystem;
    beforeAll(async () => {
      t = await startTestSystem({ modules: ALL_MODULES, env: { REPORTS_MAX_PER_ACCOUNT: '2' } });
    });
    afterAll(() => t?.stop());

    const range = () => {
      const to = new Date();
      return { from: new Date(to.getTime() - 3_600_000).toISOString(), to: to.toISOString() };
    };

    it('refuses an account more than its maximum with a 429 saying when there is room, and deletes reports past their retention', async () => {
      const first = await t.api('POST', '/v1/reports', { body: range() });
      const second = await t.api('POST', '/v1/reports', { body: range() });
      expect([first.status, second.status]).toEqual([202, 202]);
      const third = await t.api('POST', '/v1/reports', { body: range() });
      expectError(third, 429, 'report_limit_reached');
      const retryAfter = Number(third.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(23 * 3600);
      expect(retryAfter).toBeLessThanOrEqual(24 * 3600);

      const other = t.system.keys.issue('api');
      expect((await t.api('POST', '/v1/reports', { body: range(), key: other.secret })).status).toBe(202);

      // The first report ages past REPORTS_RETENTION_HOURS (24 by default)…
      const db = new Database(join(t.dataDir, 'syncopate.db'));
      db.prepare('UPDATE reports SET created_at = ? WHERE id = ?').run(
        new Date(Date.now() - 25 * 3_600_000).toISOString(),
        first.body.id,
      );
      // …and is gone: not readable, and its place is free.
      expectError(await t.api('GET', `/v1/reports/${first.body.id}`), 404, 'resource_missing');
      expect((await t.api('POST', '/v1/reports', { body: range() })).status).toBe(202);
      expect(db.prepare('SELECT count(*) AS n FROM reports WHERE id = ?').get(first.body.id)).toEqual({ n: 0 });
      db.close();
    });
  });

  describe('webhook deliveries, per endpoint', () => {
    /** A merchant endpoint that takes requests and answers none of them until released. */
    async function stalledEndpoint() {
      const held: ServerResponse[] = [];
      let open = 0;
      let most = 0;
      let released = false;
      let answered = 0;
      const server = createServer((request, response) => {
        request.resume();
        open += 1;
        most = Math.max(most, open);
        response.once('close', () => {
          open -= 1;
        });
        const answer = () => {
          answered += 1;
          response.end('ok');
        };
        if (released) answer();
        else held.push(Object.assign(response, { answer }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
        open: () => open,
        most: () => most,
        answered: () => answered,
        release() {
          released = true;
          for (const response of held.splice(0)) (response as ServerResponse & { answer(): void }).answer();
        },
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    }

    it("one merchant's stalled endpoint holds at most its share of the consumer: another merchant's webhook goes out meanwhile", async () => {
      const stalled = await stalledEndpoint();
      const healthy = await startWebhookReceiver();
      const t = await startTestSystem({
        modules: ALL_MODULES,
        env: {
          WEBHOOK_ALLOW_LOCAL: 'true',
          WEBHOOK_CONCURRENCY: '4',
          WEBHOOK_ENDPOINT_CONCURRENCY: '2',
          // Long enough that no stalled request times out while the test runs.
          WEBHOOK_TIMEOUT_MS: '60000',
        },
      });
      try {
        const slow = await t.api('POST', '/v1/webhook_endpoints', {
          body: { url: stalled.url, enabled_events: ['payment.succeeded'] },
        });
        expect(slow.status).toBe(201);
        const slowPayments: string[] = [];
        for (let i = 0; i < 6; i++) {
          const paid = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
          slowPayments.push(paid.body.id);
        }
        await waitFor('the stalled endpoint to hold two requests', () => stalled.open() === 2);

        const other = t.system.keys.issue('api');
        const created = await t.api('POST', '/v1/webhook_endpoints', {
          key: other.secret,
          body: { url: healthy.url, enabled_events: ['payment.succeeded'] },
        });
        expect(created.status).toBe(201);
        const paid = await t.api('POST', '/v1/payments', {
          key: other.secret,
          body: paymentBody(),
          idempotencyKey: randomUUID(),
        });
        expect(paid.status).toBe(201);
        const delivered = await waitFor('the other merchant’s webhook', () => healthy.requests[0], 30_000);
        expect(JSON.parse(delivered.body).data.object.payment_id).toBe(paid.body.id);
        // Meanwhile the stalled endpoint never had more than its two requests in flight, and still holds them.
        expect(stalled.most()).toBe(2);
        expect(stalled.open()).toBe(2);
        expect(stalled.answered()).toBe(0);

        // The slow merchant loses nothing: once its endpoint answers, every event reaches it (each
        // deferred event at its next retry, up to a minute apart by then).
        stalled.release();
        await waitFor('every event of the slow merchant delivered', () => stalled.answered() >= 6, 150_000);
        expect(stalled.most()).toBe(2);
      } finally {
        await t.stop();
        await stalled.close();
        await healthy.close();
      }
    }, 240_000);
  });
});
