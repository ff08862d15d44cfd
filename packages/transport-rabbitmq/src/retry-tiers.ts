/**
 * Delayed retries without a broker plugin: a message waits in a retry queue whose per-queue TTL
 * is the delay, then dead-letters back to its group's queue. One TTL per queue keeps expiry FIFO
 * (RabbitMQ only expires at a queue's head), so delays come in tiers: powers of two from 16 ms to
 * about 70 minutes. A longer or in-between delay takes several hops: the message carries its due
 * time, and a consumer that receives it early parks it again for the rest.
 */
export const RETRY_TIERS_MS: readonly number[] = Array.from({ length: 19 }, (_, i) => 2 ** (i + 4));

const SMALLEST_TIER_MS = RETRY_TIERS_MS[0] as number;

/** The largest tier that does not overshoot `remainingMs` (the smallest tier for anything below it). */
export function tierFor(remainingMs: number): number {
  let tier = SMALLEST_TIER_MS;
  for (const candidate of RETRY_TIERS_MS) {
    if (candidate > remainingMs) break;
    tier = candidate;
  }
  return tier;
}

/**
 * Whether a message back from a retry queue is due: within 10% of its whole delay (at least
 * 16 ms) of its due time. The tolerance bounds the hops: at most four for any delay up to the
 * largest tier, one more per 70 minutes beyond it.
 */
export function isDue(dueAt: number, delayMs: number, now: number): boolean {
  return dueAt - now <= Math.max(SMALLEST_TIER_MS, delayMs / 10);
}
