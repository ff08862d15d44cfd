import type { LatencySummary, TimelineBucket } from './results.js';

/** One answered (or failed) request of a lab load. */
export interface RequestRecord {
  /** When it was answered, ms since the load began. */
  atMs: number;
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

/** Percentiles are of successful (2xx) answers; every answer counts in `statuses`. */
export function summarize(records: readonly RequestRecord[], durationSec: number): LatencySummary {
  // Percentiles of the answers that succeeded: a fast refusal is not a fast payment (counted in `statuses`).
  const latencies = records
    .filter((r) => !isError(r.status))
    .map((r) => r.latencyMs)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const { status } of records) statuses[status] = (statuses[status] ?? 0) + 1;
  const ok = records.filter((r) => r.status >= 200 && r.status < 300).length;
  return {
    requests: records.length,
    statuses,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? 0),
    throughputPerSec: round(ok / Math.max(durationSec, 0.001)),
  };
}

export const isError = (status: number) => status < 200 || status >= 300;

/** Requests and errors per `bucketSec`, from the load's start, by answer time. */
export function timeline(records: readonly RequestRecord[], bucketSec: number, totalSec: number): TimelineBucket[] {
  const buckets: TimelineBucket[] = Array.from({ length: Math.ceil(totalSec / bucketSec) }, (_, i) => ({
    atSec: round(i * bucketSec),
    requests: 0,
    errors: 0,
  }));
  for (const record of records) {
    const bucket = buckets[Math.min(buckets.length - 1, Math.floor(record.atMs / 1_000 / bucketSec))];
    if (!bucket) continue;
    bucket.requests += 1;
    if (isError(record.status)) bucket.errors += 1;
  }
  return buckets;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
