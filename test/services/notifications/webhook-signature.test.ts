import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from '../../../src/services/notifications/index.js';

const secret = 'whsec_test_secret_for_signatures';
const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment.succeeded', data: { object: { a: 1 } } });
const now = () => Math.floor(Date.now() / 1000);

describe('webhook signatures (Stripe scheme)', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 of the secret, and accepts its own signature', () => {
    const timestamp = now();
    const header = signPayload({ body, secret, timestamp });
    const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
    expect(header).toBe(`t=${timestamp},v1=${expected}`);
    expect(verifySignature({ header, body, secret })).toEqual({ valid: true, timestamp });
    expect(verifySignature({ header, body: Buffer.from(body), secret }).valid).toBe(true);
  });

  it('rejects a tampered body and a wrong secret', () => {
    const header = signPayload({ body, secret });
    expect(verifySignature({ header, body: body.replace('"a":1', '"a":2'), secret })).toEqual({
      valid: false,
      reason: 'no_matching_signature',
    });
    expect(verifySignature({ header, body, secret: 'whsec_another_secret' })).toEqual({
      valid: false,
      reason: 'no_matching_signature',
    });
  });

  it('rejects a timestamp outside the tolerance, old or in the future, even with a valid signature', () => {
    const old = signPayload({ body, secret, timestamp: now() - 301 });
    expect(verifySignature({ header: old, body, secret })).toEqual({
      valid: false,
      reason: 'timestamp_outside_tolerance',
    });
    expect(verifySignature({ header: old, body, secret, toleranceSeconds: 600 }).valid).toBe(true);
    const future = signPayload({ body, secret, timestamp: now() + 120 });
    expect(verifySignature({ header: future, body, secret, toleranceSeconds: 60 })).toEqual({
      valid: false,
      reason: 'timestamp_outside_tolerance',
    });
  });

  it('rejects a timestamp re-signed by a forger: t is under the HMAC', () => {
    const header = signPayload({ body, secret, timestamp: now() - 3600 });
    const forged = header.replace(/^t=\d+/, `t=${now()}`);
    expect(verifySignature({ header: forged, body, secret }).valid).toBe(false);
  });

  it('rejects a missing or malformed header', () => {
    for (const header of [undefined, '', 'v1=abc', 't=123', 't=abc,v1=00', 'nonsense']) {
      expect(verifySignature({ header, body, secret })).toEqual({ valid: false, reason: 'malformed_header' });
    }
  });

  it('accepts any v1 entry that matches, so a secret can be rolled', () => {
    const timestamp = now();
    const good = signPayload({ body, secret, timestamp }).split('v1=')[1];
    const header = `t=${timestamp},v1=${'0'.repeat(64)},v1=${good}`;
    expect(verifySignature({ header, body, secret }).valid).toBe(true);
  });
});
