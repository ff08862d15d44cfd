import { z } from 'zod';
import type { ApiKeyStore } from '../../platform/auth/api-keys.js';
import { authenticate, principalOf } from '../../platform/auth/authenticate.js';
import type { Faults } from '../../platform/faults.js';
import { invalidRequest } from '../../platform/http/api-error.js';
import { encapsulate, type HttpServer } from '../../platform/http/server.js';
import {
  bucketStarts,
  countBuckets,
  DEFAULT_WINDOW_MS,
  GRANULARITIES,
  type Granularity,
  MAX_POINTS,
} from './buckets.js';
import type { CounterStore, Counts } from './counter-store.js';

const isoInstant = z.iso.datetime({ offset: true });

const summaryQuery = z.object({
  granularity: z.enum(GRANULARITIES).optional(),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
});

const figuresSchema = z.object({
  succeeded_count: z.number().int(),
  failed_count: z.number().int(),
  gross_amount: z.number().int(),
  refunded_amount: z.number().int(),
  net_amount: z.number().int(),
  /** succeeded / (succeeded + failed), to 4 decimals; null when nothing was attempted. */
  success_rate: z.number().min(0).max(1).nullable(),
});

export const summarySchema = z
  .object({
    object: z.literal('analytics_summary'),
    account_id: z.string(),
    /** Since the first event, per currency: amounts in minor units are never summed across currencies. */
    totals: z.array(figuresSchema.extend({ currency: z.string() })),
    series: z
      .object({
        granularity: z.enum(GRANULARITIES),
        from: z.string(),
        to: z.string(),
        /** One dense series per currency active in the window; points start at UTC bucket boundaries. */
        currencies: z.array(
          z.object({ currency: z.string(), points: z.array(figuresSchema.extend({ start: z.string() })) }),
        ),
      })
      .nullable(),
  })
  .meta({ id: 'AnalyticsSummary' });

type Figures = z.infer<typeof figuresSchema>;

const ZERO: Counts = { succeeded_count: 0, failed_count: 0, gross_amount: 0, refunded_amount: 0 };

function figuresOf(counts: Counts): Figures {
  const attempted = counts.succeeded_count + counts.failed_count;
  return {
    succeeded_count: counts.succeeded_count,
    failed_count: counts.failed_count,
    gross_amount: counts.gross_amount,
    refunded_amount: counts.refunded_amount,
    net_amount: counts.gross_amount - counts.refunded_amount,
    success_rate: attempted === 0 ? null : Math.round((counts.succeeded_count / attempted) * 10_000) / 10_000,
  };
}

interface SeriesWindow {
  granularity: Granularity;
  fromMs: number;
  toMs: number;
}

/** Reads the series parameters; `to` defaults to now and `from` to a window before it. */
function seriesWindow(query: z.infer<typeof summaryQuery>, nowMs: number): SeriesWindow | undefined {
  const { granularity } = query;
  if (!granularity) {
    if (query.from !== undefined || query.to !== undefined) {
      throw invalidRequest('parameter_missing', 'Give granularity (minute or day) with from and to', 'granularity');
    }
    return undefined;
  }
  const toMs = query.to === undefined ? nowMs : Date.parse(query.to);
  const fromMs = query.from === undefined ? toMs - DEFAULT_WINDOW_MS[granularity] : Date.parse(query.from);
  if (toMs <= fromMs) throw invalidRequest('parameter_invalid', 'to must be after from', 'to');
  const points = countBuckets({ fromMs, toMs, granularity });
  if (points > MAX_POINTS[granularity]) {
    throw invalidRequest(
      'range_too_large',
      `A ${granularity} series holds at most ${MAX_POINTS[granularity]} points; this range needs ${points}`,
      'from',
    );
  }
  return { granularity, fromMs, toMs };
}

export interface SummaryRouteOptions {
  counters: CounterStore;
  keys: ApiKeyStore;
  faults: Pick<Faults, 'onRequest'>;
}

export function registerSummaryRoute(app: HttpServer, options: SummaryRouteOptions): void {
  const { counters } = options;
  encapsulate(app, (scope) => {
    scope.addHook('onRequest', options.faults.onRequest);
    // On request, before validation: a caller without a key learns nothing about the parameters.
    scope.addHook('onRequest', authenticate(options.keys));

    scope.get(
      '/v1/analytics/summary',
      {
        schema: {
          summary: 'Payment totals per currency, and a time series when a range is asked for',
          tags: ['analytics'],
          querystring: summaryQuery,
          response: { 200: summarySchema },
        },
      },
      async (request) => {
        const { accountId } = principalOf(request);
        const window = seriesWindow(request.query, Date.now());
        return {
          object: 'analytics_summary' as const,
          account_id: accountId,
          totals: (await counters.totals(accountId)).map(({ currency, ...counts }) => ({
            currency,
            ...figuresOf(counts),
          })),
          series: window ? await seriesOf(counters, accountId, window) : null,
        };
      },
    );
  });
}

async function seriesOf(counters: CounterStore, accountId: string, window: SeriesWindow) {
  const starts = bucketStarts(window);
  const byCurrency = new Map<string, Map<number, Counts>>();
  for (const { currency, bucket_start, ...counts } of await counters.buckets({ accountId, ...window })) {
    const buckets = byCurrency.get(currency) ?? new Map<number, Counts>();
    buckets.set(bucket_start, counts);
    byCurrency.set(currency, buckets);
  }
  return {
    granularity: window.granularity,
    from: new Date(window.fromMs).toISOString(),
    to: new Date(window.toMs).toISOString(),
    currencies: [...byCurrency].map(([currency, buckets]) => ({
      currency,
      points: starts.map((start) => ({
        start: new Date(start).toISOString(),
        ...figuresOf(buckets.get(start) ?? ZERO),
      })),
    })),
  };
}
