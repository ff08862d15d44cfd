import type { Interval, LatencySummary, Status } from './results.js';

/** One answered (or failed) request of a lab load. */
export interface RequestRecord {
  latencyMs: number;
  /** 0: no answer (connection refused, reset, client timeout). */
  status: number;
}

/** The p-th percentile (0–100) of sorted values, nearest rank; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const isError = (status: number) => status < 200 || status >= 300;

/** Response times (ms, sorted) of the answers that succeeded: a fast refusal is not a fast payment. */
export function successLatencies(records: readonly RequestRecord[]): number[] {
  return records
    .filter((r) => !isError(r.status))
    .map((r) => r.latencyMs)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
}

/** Percentiles are of successful (2xx) answers; every answer counts in `statuses`. */
export function summarize(records: readonly RequestRecord[], durationSec: number): LatencySummary {
  const latencies = successLatencies(records);
  const statuses: Record<string, number> = {};
  for (const { status } of records) statuses[status] = (statuses[status] ?? 0) + 1;
  return {
    requests: records.length,
    succeeded: latencies.length,
    statuses,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? 0),
    throughputPerSec: round(latencies.length / Math.max(durationSec, 0.001)),
  };
}

/**
 * The fewest answers a trial needs for each percentile to mean something: at least two answers
 * beyond it (with fewer, the "p99" is simply the slowest answer, and one hiccup decides it).
 */
export const MIN_ANSWERS: Record<'p50' | 'p95' | 'p99', number> = { p50: 5, p95: 40, p99: 200 };

/** The median and the range of one figure over the trials; null for no trial. */
export function intervalOf(values: readonly number[]): Interval | null {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  const middle = Math.floor(finite.length / 2);
  const median =
    finite.length % 2 === 1
      ? (finite[middle] as number)
      : ((finite[middle - 1] as number) + (finite[middle] as number)) / 2;
  return {
    median: round(median, 2),
    min: round(finite[0] as number, 2),
    max: round(finite.at(-1) as number, 2),
    n: finite.length,
  };
}

/**
 * What `after − before` may be, from two sets of trials: the difference of the medians, and the
 * widest range the trials allow (the smallest `after` less the largest `before`, and the other way).
 */
export function differenceOf(after: Interval | null, before: Interval | null): Interval | null {
  if (!after || !before) return null;
  return {
    median: round(after.median - before.median, 2),
    min: round(after.min - before.max, 2),
    max: round(after.max - before.min, 2),
    n: Math.min(after.n, before.n),
  };
}

/** Trials a comparison needs before it may say anything. */
export const MIN_TRIALS = 3;

/**
 * Whether `second` is better than `first` beyond the noise: `holds` when their ranges over the
 * trials do not overlap and `second` is on the better side, `does not hold` when they do not
 * overlap and `first` is, `not shown` when they overlap or either has fewer than MIN_TRIALS.
 * With three trials a side, two ranges this far apart happen by chance about once in twenty.
 */
export function compare(first: Interval | null, second: Interval | null, better: 'lower' | 'higher'): Status {
  if (!first || !second || first.n < MIN_TRIALS || second.n < MIN_TRIALS) return 'not shown';
  // The side the claim says is lower, and the other.
  const [low, high] = better === 'lower' ? [second, first] : [first, second];
  if (low.max < high.min) return 'holds';
  if (high.max < low.min) return 'does not hold';
  return 'not shown';
}

/** (max − min) / median: how far the trials of one point were apart, relative to their median. */
export function relativeSpread(interval: Interval | null): number | null {
  if (!interval || interval.n < 2 || interval.median === 0) return null;
  return round((interval.max - interval.min) / Math.abs(interval.median), 3);
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
