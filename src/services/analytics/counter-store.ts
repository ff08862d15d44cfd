import type { Database, Statement } from 'better-sqlite3';
import { bucketStart, GRANULARITIES, type Granularity } from './buckets.js';

export const ANALYTICS_MIGRATIONS = [
  `CREATE TABLE payment_counters (
     account_id      TEXT NOT NULL,
     granularity     TEXT NOT NULL CHECK (granularity IN ('minute', 'day')),
     currency        TEXT NOT NULL,
     bucket_start    INTEGER NOT NULL,
     succeeded_count INTEGER NOT NULL DEFAULT 0,
     failed_count    INTEGER NOT NULL DEFAULT 0,
     gross_amount    INTEGER NOT NULL DEFAULT 0,
     refunded_amount INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (account_id, granularity, currency, bucket_start)
   ) WITHOUT ROWID;`,
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
  private readonly add: Statement;
  private readonly totalsOf: Statement;
  private readonly bucketsOf: Statement;

  constructor(db: Database) {
    this.add = db.prepare(`
      INSERT INTO payment_counters (account_id, granularity, currency, bucket_start,
                                    succeeded_count, failed_count, gross_amount, refunded_amount)
      VALUES (@accountId, @granularity, @currency, @bucketStart, @succeeded, @failed, @gross, @refunded)
      ON CONFLICT (account_id, granularity, currency, bucket_start) DO UPDATE SET
        succeeded_count = succeeded_count + excluded.succeeded_count,
        failed_count    = failed_count + excluded.failed_count,
        gross_amount    = gross_amount + excluded.gross_amount,
        refunded_amount = refunded_amount + excluded.refunded_amount`);
    this.totalsOf = db.prepare(`
      SELECT currency, sum(succeeded_count) AS succeeded_count, sum(failed_count) AS failed_count,
             sum(gross_amount) AS gross_amount, sum(refunded_amount) AS refunded_amount
      FROM payment_counters WHERE account_id = ? AND granularity = 'day'
      GROUP BY currency ORDER BY currency`);
    this.bucketsOf = db.prepare(`
      SELECT currency, bucket_start, succeeded_count, failed_count, gross_amount, refunded_amount
      FROM payment_counters
      WHERE account_id = @accountId AND granularity = @granularity AND bucket_start >= @from AND bucket_start < @to
      ORDER BY currency, bucket_start`);
  }

  /** Synchronous, so it can run inside the inbox's transaction. */
  apply(delta: CounterDelta): void {
    for (const granularity of GRANULARITIES) {
      this.add.run({ ...delta, granularity, bucketStart: bucketStart(delta.atMs, granularity) });
    }
  }

  totals(accountId: string): CurrencyCounts[] {
    return this.totalsOf.all(accountId) as CurrencyCounts[];
  }

  /** The non-empty buckets overlapping [fromMs, toMs), per currency then time. */
  buckets(options: { accountId: string; granularity: Granularity; fromMs: number; toMs: number }): BucketCounts[] {
    return this.bucketsOf.all({
      accountId: options.accountId,
      granularity: options.granularity,
      from: bucketStart(options.fromMs, options.granularity),
      to: options.toMs,
    }) as BucketCounts[];
  }
}
