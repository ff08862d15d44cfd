import { randomBytes } from 'node:crypto';
import { createEvent, type Outbox, type SqlExecutor } from '@syncopate/messaging';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ReportRequested } from '../../contracts/report-events.js';
import type { ApiKeyStore } from '../../platform/auth/api-keys.js';
import { authenticate, principalOf } from '../../platform/auth/authenticate.js';
import type { Faults } from '../../platform/faults.js';
import { ApiError, invalidRequest, notFound } from '../../platform/http/api-error.js';
import { encapsulate, type HttpServer } from '../../platform/http/server.js';
import { type IdempotentRequests, optionalIdempotencyHeader } from '../../platform/idempotent-requests.js';
import { requestTrace } from '../../platform/telemetry/http-spans.js';
import type { ReportRow, ReportStore } from './report-store.js';

/** The longest range one report may cover. */
export const MAX_REPORT_RANGE_DAYS = 366;

const isoInstant = z.iso.datetime({ offset: true });

const createReportBody = z.strictObject({ from: isoInstant, to: isoInstant });

export const reportSchema = z
  .object({
    id: z.string(),
    object: z.literal('report'),
    status: z.enum(['pending', 'ready', 'failed']),
    from: z.string(),
    to: z.string(),
    created_at: z.string(),
    /** Set once the report is ready. */
    download_url: z.string().nullable(),
    /** Why a failed report could not be made. */
    failure_reason: z.string().nullable(),
  })
  .meta({ id: 'Report' });

const reportParams = z.object({ id: z.string().min(1).max(64) });

function reportOf(row: ReportRow): z.infer<typeof reportSchema> {
  return {
    id: row.id,
    object: 'report',
    status: row.status,
    from: row.from_at,
    to: row.to_at,
    created_at: row.created_at,
    download_url: row.status === 'ready' ? `/v1/reports/${row.id}/download` : null,
    failure_reason: row.failure_reason,
  };
}

/** Checks what a schema cannot see alone, before anything is written. */
function rangeOf(body: z.infer<typeof createReportBody>): { from: string; to: string } {
  const fromMs = Date.parse(body.from);
  const toMs = Date.parse(body.to);
  if (toMs <= fromMs) throw invalidRequest('parameter_invalid', 'to must be after from', 'to');
  if (toMs - fromMs > MAX_REPORT_RANGE_DAYS * 86_400_000) {
    throw invalidRequest('range_too_large', `A report covers at most ${MAX_REPORT_RANGE_DAYS} days`, 'to');
  }
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

export interface ReportRoutesOptions {
  reports: ReportStore;
  outbox: Outbox;
  keys: ApiKeyStore;
  faults: Pick<Faults, 'onRequest'>;
  requests: IdempotentRequests;
  /** Reports an account may hold at once (REPORTS_MAX_PER_ACCOUNT). */
  maxPerAccount: number;
  /** How long a report is kept (REPORTS_RETENTION_HOURS), in ms. */
  retentionMs: number;
}

export function registerReportRoutes(app: HttpServer, options: ReportRoutesOptions): void {
  const { reports, outbox } = options;
  const expiredBefore = () => new Date(Date.now() - options.retentionMs).toISOString();

  /** The caller's own report; another account's, or one past retention, is as absent as one that never existed. */
  const ownReport = async (request: FastifyRequest, id: string): Promise<ReportRow> => {
    const row = await reports.get(id);
    if (!row || row.account_id !== principalOf(request).accountId || row.created_at < expiredBefore()) {
      throw notFound('report', id);
    }
    return row;
  };

  /** Room for one more report, after the account's expired ones are gone; a 429 naming when there is room again. */
  const makeRoom = async (tx: SqlExecutor, accountId: string) => {
    await reports.deleteOlderThan(tx, expiredBefore(), accountId);
    const held = await reports.heldBy(tx, accountId);
    if (held.count < options.maxPerAccount) return;
    const freeAt = Date.parse(held.oldest ?? '') + options.retentionMs;
    const seconds = Math.max(1, Math.ceil((freeAt - Date.now()) / 1000));
    throw new ApiError(
      429,
      'rate_limit_error',
      'report_limit_reached',
      `An account holds at most ${options.maxPerAccount} reports, each kept ${options.retentionMs / 3_600_000} hours; the oldest expires in ${seconds} s`,
      undefined,
      { 'retry-after': String(seconds) },
    );
  };

  encapsulate(app, (scope) => {
    scope.addHook('onRequest', options.faults.onRequest);
    // On request, before validation: a caller without a key learns nothing about the parameters.
    scope.addHook('onRequest', authenticate(options.keys));

    scope.post(
      '/v1/reports',
      {
        schema: {
          summary: 'Ask for a CSV report of payments between two instants; poll it until it is ready',
          tags: ['reports'],
          headers: optionalIdempotencyHeader,
          body: createReportBody,
          response: { 202: reportSchema },
        },
      },
      async (request, reply) => {
        const { accountId } = principalOf(request);
        const range = rangeOf(request.body);
        const answer = await options.requests.run(
          { accountId, key: request.headers['idempotency-key'], request: request.body },
          async (tx) => {
            await makeRoom(tx, accountId);
            const id = `rpt_${randomBytes(12).toString('base64url')}`;
            const requested = createEvent(
              ReportRequested,
              { report_id: id, account_id: accountId, ...range },
              { source: 'urn:syncopate:reports', subject: id, orderingKey: id, trace: requestTrace(request) },
            );
            const created = await reports.create(tx, {
              id,
              account_id: accountId,
              from_at: range.from,
              to_at: range.to,
              created_at: new Date().toISOString(),
            });
            await outbox.append(tx, [requested]);
            return { status: 202, body: reportOf(created) };
          },
        );
        const report = answer.body as z.infer<typeof reportSchema>;
        if (answer.replayed) reply.header('idempotent-replayed', 'true');
        return reply.code(202).header('location', `/v1/reports/${report.id}`).send(report);
      },
    );

    scope.get(
      '/v1/reports/:id',
      {
        schema: {
          summary: 'Read one report',
          tags: ['reports'],
          params: reportParams,
          response: { 200: reportSchema },
        },
      },
      async (request) => reportOf(await ownReport(request, request.params.id)),
    );

    const download = { summary: 'Download a ready report as CSV', tags: ['reports'], params: reportParams };
    scope.get('/v1/reports/:id/download', { schema: download }, async (request, reply) => {
      const row = await ownReport(request, request.params.id);
      const csv = row.status === 'ready' ? await reports.csv(row.id) : undefined;
      if (row.status === 'failed') {
        throw new ApiError(
          409,
          'invalid_request_error',
          'report_failed',
          `Report ${row.id} failed: ${row.failure_reason}`,
        );
      }
      if (csv === undefined) {
        throw new ApiError(
          409,
          'invalid_request_error',
          'report_not_ready',
          `Report ${row.id} is still being generated; poll /v1/reports/${row.id} until its status is ready`,
        );
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${row.id}.csv"`)
        .send(csv);
    });
  });
}
