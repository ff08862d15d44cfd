import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayModule } from '../../src/services/gateway/gateway-service.js';
import { paymentsModule } from '../../src/services/payments/index.js';
import { paymentBody, startTestSystem, type TestSystem } from '../support/system.js';
import { OLD_DEFAULT_GATEWAY_KEY } from './support.js';

const CARD = { number: '4242424242424242', exp_month: 12, exp_year: 2039, cvc: '123' };

/** The token main made: an HMAC of number and expiry, keyed with the gateway key. */
const oldToken = (number: string, key: string) =>
  `tok_${createHmac('sha256', key).update(`${number}|${CARD.exp_month}|${CARD.exp_year}`).digest('base64url').slice(0, 24)}`;

/**
 * The attack of the finding: the brand's prefix and the last four are known (the API shows them),
 * so only the middle digits are guessed. Ten thousand candidates around the real number stand for
 * the million a real attempt tries; each is tested under every key the attacker may hold.
 */
function bruteForce(stored: readonly string[], keys: readonly string[]): string[] {
  const found: string[] = [];
  for (let middle = 0; middle < 10_000; middle++) {
    const number = `42424242${String(middle).padStart(4, '0')}4242`;
    for (const key of keys) if (stored.includes(oldToken(number, key))) found.push(number);
  }
  return found;
}

describe('finding 3: the card token', () => {
  let t: TestSystem;
  let charges: { token: string; request_hash: string; last4: string }[];
  beforeAll(async () => {
    t = await startTestSystem({ modules: [gatewayModule, paymentsModule] });
    for (let i = 0; i < 2; i++) {
      const paid = await t.api('POST', '/v1/payments', {
        body: paymentBody({ card: CARD }),
        idempotencyKey: randomUUID(),
      });
      expect(paid.status).toBe(201);
    }
    const db = new Database(join(t.dataDir, 'gateway.db'), { readonly: true });
    charges = db.prepare('SELECT token, request_hash, last4 FROM charges').all() as typeof charges;
    db.close();
  });
  afterAll(() => t?.stop());

  it('the brute force that recovered the number from a token finds nothing, under the old default key or the real one', () => {
    expect(charges).toHaveLength(2);
    // The attack works on the kind of token main stored: the real number is found among the candidates.
    expect(bruteForce([oldToken(CARD.number, OLD_DEFAULT_GATEWAY_KEY)], [OLD_DEFAULT_GATEWAY_KEY])).toEqual([
      CARD.number,
    ]);
    const tokens = charges.map((c) => c.token);
    expect(bruteForce(tokens, [OLD_DEFAULT_GATEWAY_KEY, t.system.secrets.gatewayKey])).toEqual([]);
  });

  it('a token is random: the same card gets another token on each charge', () => {
    const [first, second] = charges;
    expect(first?.token).toMatch(/^tok_[\w-]{24}$/);
    expect(second?.token).not.toBe(first?.token);
    expect(first?.last4).toBe('4242');
  });

  it('no stored value is a function of the full number: the request hashes of two cards sharing last 4 and expiry are equal', async () => {
    // Same body but for the middle digits of the card: the stored hashes take the card as last 4 and expiry only.
    const other = { ...CARD, number: '4000056655664242' };
    const key = randomUUID();
    const first = await t.api('POST', '/v1/payments', { body: paymentBody({ card: CARD }), idempotencyKey: key });
    const again = await t.api('POST', '/v1/payments', { body: paymentBody({ card: other }), idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('the gateway still recognises a retry under the same key: one charge, replayed', async () => {
    const key = randomUUID();
    const internal = t.system.internalUrl as string;
    const charge = () =>
      fetch(`${internal}/v1/charges`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.system.secrets.gatewayKey}`,
          'idempotency-key': key,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ amount: 700, currency: 'usd', card: CARD }),
      });
    const first = await charge();
    const retry = await charge();
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(((await retry.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
  });
});
