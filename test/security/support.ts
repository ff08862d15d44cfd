import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEvent, type Envelope } from '@syncopate/messaging';
import { expect } from 'vitest';
import { PaymentSucceeded } from '../../src/contracts/payment-events.js';

/** The secrets main had as defaults before issue 20: they must open nothing any more. */
export const OLD_DEFAULT_INTERNAL_KEY = 'internal_local_development_key';
export const OLD_DEFAULT_GATEWAY_KEY = 'gw_local_development_key';

export interface Answer {
  status: number;
  headers: Headers;
  /** Read field by field, as the API documents it. */
  body: any;
}

/** One HTTP request to any listener, with an optional bearer key and JSON body. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the text itself.
  }
  return { status: response.status, headers: response.headers, body };
}

/** The answer is the status, in the project's one error shape, with this code. */
export function expectError(answer: Pick<Answer, 'status' | 'body'>, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  expect(answer.body).toEqual({
    error: {
      type: expect.any(String),
      code,
      message: expect.any(String),
      ...(answer.body.error.param === undefined ? {} : { param: expect.any(String) }),
    },
  });
}

/** A payment.succeeded nobody paid: what an attacker would send to an effect endpoint. */
export function forgedPayment(accountId: string, email = 'victim@example.com'): Envelope {
  return createEvent(
    PaymentSucceeded,
    {
      payment_id: 'pay_forged',
      account_id: accountId,
      amount: 99_999_999,
      currency: 'usd',
      customer_email: email,
      description: 'never paid',
      card: { brand: 'visa', last4: '4242' },
      created_at: new Date().toISOString(),
    },
    { source: 'urn:syncopate:payments', orderingKey: 'pay_forged' },
  );
}

/** The receipts written as .eml files under DATA_DIR/mail. */
export function receipts(dataDir: string): string[] {
  const dir = join(dataDir, 'mail');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.eml')) : [];
}
