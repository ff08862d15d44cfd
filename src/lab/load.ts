import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import type { RequestRecord } from './stats.js';

/** One payment request of a lab load and what came back. */
export interface PaymentRecord extends RequestRecord {
  /** When the answer came (performance.now()); NaN for no answer. */
  answeredAt: number;
  /** The customer address: one per payment, so its receipt can be counted at the mail sink. */
  email: string;
  /** Set when the answer carried the payment (201, 402). */
  paymentId: string | undefined;
}

export interface LoadOptions {
  url: string;
  apiKey: string;
  ratePerSec: number;
  durationSec: number;
  /** Goes into each payment's description and customer address, to find the scenario's payments again. */
  tag: string;
  /** Called with the seconds elapsed, about ten times a second (progress bars). */
  onTick?: (elapsedSec: number) => void;
}

const CARD = { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' };
let sequence = 0;

export interface LoadRun {
  /** When the load began and ended (performance.now()). */
  startedAt: number;
  endedAt: number;
  records: PaymentRecord[];
}

/** Instances a load is split into, started this far apart within each second. */
const SLOTS_PER_SECOND = 5;

interface Context {
  email?: string;
  sentAt?: number;
}

/**
 * Sends payments at a steady rate for a fixed time, and records every answer: when, how long,
 * which status, which payment. autocannon paces each connection by whole seconds, so its
 * connections would all fire at each second's start; the load is split into instances started a
 * fifth of a second apart, which spreads the requests over the second.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const records: PaymentRecord[] = [];
  const started = performance.now();
  const total = Math.max(1, Math.round(options.ratePerSec * options.durationSec));
  const seconds = Math.max(1, Math.round(options.durationSec));
  // One connection sends one request a second; a slot is a fifth of the second's connections.
  const connections = Math.max(1, Math.ceil(total / seconds));
  const slots = Math.min(SLOTS_PER_SECOND, connections);
  const ticker = setInterval(() => options.onTick?.((performance.now() - started) / 1_000), 100);
  try {
    await Promise.all(
      Array.from({ length: slots }, async (_, slot) => {
        const slotConnections = Math.floor(connections / slots) + (slot < connections % slots ? 1 : 0);
        const amount = Math.floor(total / slots) + (slot < total % slots ? 1 : 0);
        if (amount === 0) return;
        await new Promise((resolve) => setTimeout(resolve, (slot * 1_000) / slots));
        await slotLoad(options, Math.min(slotConnections, amount), amount, records);
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  return { startedAt: started, endedAt: performance.now(), records };
}

function slotLoad(options: LoadOptions, connections: number, amount: number, records: PaymentRecord[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // autocannon reports done at its next whole-second tick; the slot is done at its last answer.
    let answered = 0;
    const record = (entry: PaymentRecord) => {
      records.push(entry);
      if (++answered === amount) {
        instance.stop();
        resolve();
      }
    };
    const instance = autocannon(
      {
        url: options.url,
        connections,
        // One request per connection per second.
        overallRate: connections,
        // A count, not a duration: autocannon then waits for every answer, so each payment the
        // system made is recorded (with a duration, answers still on their way are dropped).
        amount,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: '/v1/payments',
            setupRequest: (request, context: Context) => {
              const payment = paymentRequest(options.apiKey, options.tag);
              context.email = payment.email;
              context.sentAt = performance.now();
              return { ...request, headers: payment.headers, body: payment.body };
            },
            onResponse: (status, body, context: Context) => {
              const now = performance.now();
              record({
                answeredAt: now,
                latencyMs: now - (context.sentAt ?? now),
                status,
                email: context.email ?? '',
                paymentId: paymentIdOf(body),
              });
            },
          },
        ],
      },
      (error) => (error ? reject(error) : resolve()),
    );
    // No answer at all (refused, reset, timed out): status 0.
    instance.on('reqError', () => {
      record({ answeredAt: Number.NaN, latencyMs: Number.NaN, status: 0, email: '', paymentId: undefined });
    });
  });
}

/** A payment's request: its own customer address (to find its receipt again) and idempotency key. */
function paymentRequest(apiKey: string, tag: string): { email: string; headers: Record<string, string>; body: string } {
  const email = `${tag}-${process.pid}-${++sequence}@lab.example`;
  return {
    email,
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    },
    body: JSON.stringify({ amount: 1999, currency: 'usd', card: CARD, customer: { email }, description: `lab:${tag}` }),
  };
}

/** One payment, alone: for probes that must know exactly when its answer came. */
export async function payOnce(options: Pick<LoadOptions, 'url' | 'apiKey' | 'tag'>): Promise<PaymentRecord> {
  const payment = paymentRequest(options.apiKey, options.tag);
  const sentAt = performance.now();
  const response = await fetch(`${options.url}/v1/payments`, {
    method: 'POST',
    headers: payment.headers,
    body: payment.body,
  });
  const body = await response.text();
  const answeredAt = performance.now();
  return {
    answeredAt,
    latencyMs: answeredAt - sentAt,
    status: response.status,
    email: payment.email,
    paymentId: paymentIdOf(body),
  };
}

function paymentIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { id?: unknown; payment?: { id?: unknown } };
    const id = parsed.id ?? parsed.payment?.id;
    return typeof id === 'string' && id.startsWith('pay_') ? id : undefined;
  } catch {
    return undefined;
  }
}
