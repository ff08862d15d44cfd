import { defineEvent } from '@syncopate/messaging';
import { z } from 'zod';

/** A payment event of about 300 bytes once enveloped, like the ones the payment system publishes. */
export const BenchPayment = defineEvent({
  type: 'bench.payment_succeeded',
  version: 1,
  schema: z.object({
    paymentId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    email: z.string(),
    card: z.object({ brand: z.string(), last4: z.string() }),
    /** Epoch milliseconds (sub-millisecond precision) when the publisher sent it. */
    sentAt: z.number(),
  }),
});

export function paymentData(n: number, sentAt: number) {
  return {
    paymentId: `pay_${n.toString(36).padStart(12, '0')}`,
    amount: 1999 + n,
    currency: 'usd',
    email: 'customer@example.com',
    card: { brand: 'visa', last4: '4242' },
    sentAt,
  };
}

export interface Measurement {
  received: number;
  elapsedMs: number;
  latencies: number[];
}

/** One row of a benchmark's JSON output. */
export interface Result {
  name: string;
  msgPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ratioToFloor?: number;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export function ratio(value: number, floor: number): number {
  return Math.round((value / floor) * 100) / 100;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Each round's ratio of a case to the floor measured in that round. */
export function roundRatios(values: readonly number[], floors: readonly number[]): number[] {
  return values.map((value, round) => value / (floors[round] ?? value));
}

/** The median of per-round ratios: rounds alternate cases, so a noisy moment hits a case and its floor alike. */
export function medianRatio(values: readonly number[], floors: readonly number[]): number {
  return ratio(median(roundRatios(values, floors)), 1);
}
