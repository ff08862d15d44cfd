import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, Stripe's scheme: `Syncopate-Signature: t=<unix seconds>,v1=<hex>` where the
 * hex is HMAC-SHA256 of `<t>.<raw body>` keyed with the endpoint's secret. Signing the timestamp
 * with the body lets a receiver refuse a replayed request whose timestamp is old.
 */
export const SIGNATURE_HEADER = 'syncopate-signature';

export interface SignOptions {
  body: string | Buffer;
  secret: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** The value of the `Syncopate-Signature` header for one request. */
export function signPayload(options: SignOptions): string {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return `t=${timestamp},v1=${hmacHex(timestamp, options.body, options.secret)}`;
}

export interface VerifyOptions {
  /** The `Syncopate-Signature` header as received. */
  header: string | undefined;
  /** The raw request body, exactly as received: a re-serialized JSON would not match. */
  body: string | Buffer;
  secret: string;
  /** How far the signed timestamp may be from the receiver's clock, either way. Default 300 (Stripe's). */
  toleranceSeconds?: number;
}

export type VerifyResult =
  | { valid: true; timestamp: number }
  | { valid: false; reason: 'malformed_header' | 'timestamp_outside_tolerance' | 'no_matching_signature' };

const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Checks a webhook request the way a merchant's receiver should. Any `v1` entry may match, so a
 * receiver keeps working while a secret is being rolled and two signatures are sent.
 */
export function verifySignature(options: VerifyOptions): VerifyResult {
  const parsed = parseHeader(options.header);
  if (!parsed) return { valid: false, reason: 'malformed_header' };
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(Math.floor(Date.now() / 1000) - parsed.timestamp) > tolerance) {
    return { valid: false, reason: 'timestamp_outside_tolerance' };
  }
  const expected = Buffer.from(hmacHex(parsed.timestamp, options.body, options.secret), 'utf8');
  // Every candidate is compared, in constant time each, so timing tells nothing about which one matched.
  let matched = false;
  for (const signature of parsed.signatures) {
    const given = Buffer.from(signature, 'utf8');
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched ? { valid: true, timestamp: parsed.timestamp } : { valid: false, reason: 'no_matching_signature' };
}

function hmacHex(timestamp: number, body: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

function parseHeader(header: string | undefined): { timestamp: number; signatures: string[] } | undefined {
  if (!header || header.length > 4096) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value.length > 0) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}
