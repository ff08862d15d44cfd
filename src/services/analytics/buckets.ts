/** The resolutions analytics keeps its counters at: UTC minutes and UTC days. */
export type Granularity = 'minute' | 'day';

export const GRANULARITIES = ['minute', 'day'] as const satisfies readonly Granularity[];

export const BUCKET_MS: Record<Granularity, number> = { minute: 60_000, day: 86_400_000 };

/** The most points one series may hold: a day of minutes, a (leap) year of days. */
export const MAX_POINTS: Record<Granularity, number> = { minute: 1_440, day: 366 };

/** The window a series covers when the caller gives no `from`. */
export const DEFAULT_WINDOW_MS: Record<Granularity, number> = { minute: 60 * 60_000, day: 30 * 86_400_000 };

/** The start of the bucket holding `instantMs`; days start at midnight UTC. */
export function bucketStart(instantMs: number, granularity: Granularity): number {
  const size = BUCKET_MS[granularity];
  return Math.floor(instantMs / size) * size;
}

/** Starts of the buckets that overlap [fromMs, toMs). */
export function bucketStarts(options: { fromMs: number; toMs: number; granularity: Granularity }): number[] {
  const size = BUCKET_MS[options.granularity];
  const starts: number[] = [];
  for (let start = bucketStart(options.fromMs, options.granularity); start < options.toMs; start += size) {
    starts.push(start);
  }
  return starts;
}

export function countBuckets(options: { fromMs: number; toMs: number; granularity: Granularity }): number {
  const size = BUCKET_MS[options.granularity];
  return Math.ceil((options.toMs - bucketStart(options.fromMs, options.granularity)) / size);
}
