import type { SqlDatabase, SqlExecutor } from '@syncopate/messaging';
import { bucketStart, GRANULARITIES, type Granularity } from './buckets.js';

export const ANALYTICS_MIGRATIONS = [
  `CREATE TABLE payment_counters (
     account_id      TEXT NOT NULL,
     granularity     TEXT NOT NULL CHECK (granularity IN ('minute', 'day')),
     currency        TEXT NOT NULL,
     bucket_start    BIGINT NOT NULL,
     succeeded_count BIGINT NOT NULL DEFAULT 0,
     failed_count    BIGINT NOT NULL DEFAULT 0,
     gross_amount    BIGINT NOT NULL DEFAULT 0,
     refunded_amount BIGINT NOT NULL DEFAULT 0,
     PRIMARY KEY (account_id, granularity, currency, bucket_start)
   )`,
];

/** What one payment event adds to its account's counters, at the instant it happened. */
export interface CounterDelta {
  accountId: string;
  currency: string;
  atMs: number;
  succeeded: number;
  failed: number;
  gross: number;
  refunded: number;
}

/** Stored sums; amounts in minor units. */
export interface Counts {
  succeeded_count: number;
  failed_count: number;
  gross_amount: number;
  refunded_amount: number;
}

export interface CurrencyCounts extends Counts {
  currency: string;
}

export interface BucketCounts extends CurrencyCounts {
  bucket_start: number;
}

/**
 * Pre-aggregated counters per account, currency and UTC minute / day, so a summary reads a few
 * rows instead of scanning payments. Totals come from the day rows, which hold every event.
 */
export class CounterStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Runs in the caller's transaction (the inbox's), so the counts and the inbox record commit together. */
  async apply(tx: SqlExecutor, delta: CounterDelta): Promise<void> {
    for (const granularity of GRANULARITIES) {
      await tx.run(
        `INSERT INTO payment_counters (account_id, granularity, currency, bucket_start,
                                       succeeded_count, failed_count, gross_amount, refunded_amount)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, granularity, currency, bucket_start) DO UPDATE SET
           succeeded_count = payment_counters.succeeded_count + excluded.succeeded_count,
           failed_count    = payment_counters.failed_count + excluded.failed_count,
           gross_amount    = payment_counters.gross_amount + excluded.gross_amount,
           refunded_amount = payment_counters.refunded_amount + excluded.refunded_amount`,
        [
          delta.accountId,
          granularity,
          delta.currency,
          bucketStart(delta.atMs, granularity),
          delta.succeeded,
          delta.failed,
          delta.gross,
          delta.refunded,
        ],
      );
    }
  }

  totals(accountId: string): Promise<CurrencyCounts[]> {
    return this.db.all<CurrencyCounts>(
      `SELECT currency, sum(succeeded_count) AS succeeded_count, sum(failed_count) AS failed_count,
              sum(gross_amount) AS gross_amount, sum(refunded_amount) AS refunded_amount
       FROM payment_counters WHERE account_id = ? AND granularity = 'day'
       GROUP BY currency ORDER BY currency`,
      [accountId],
    );
  }

  /** The non-empty buckets overlapping [fromMs, toMs), per currency then time. */
  buckets(options: {
    accountId: string;
    granularity: Granularity;
    fromMs: number;
    toMs: number;
  }): Promise<BucketCounts[]> {
    return this.db.all<BucketCounts>(
      `SELECT currency, bucket_start, succeeded_count, failed_count, gross_amount, refunded_amount
       FROM payment_counters
       WHERE account_id = ? AND granularity = ? AND bucket_start >= ? AND bucket_start < ?
       ORDER BY currency, bucket_start`,
      [options.accountId, options.granularity, bucketStart(options.fromMs, options.granularity), options.toMs],
    );
  }
}
