import { type Handler, Inbox, type Subscription } from '@syncopate/messaging';
import { paymentEvents } from '../../contracts/payment-events.js';
import { ReportRequested } from '../../contracts/report-events.js';
import type { HttpServer } from '../../platform/http/server.js';
import { IdempotentRequests } from '../../platform/idempotent-requests.js';
import type { Service, ServiceContext, ServiceModule } from '../../platform/service.js';
import { syncEffectRoutes } from '../../platform/sync-effects.js';
import { LEDGER_GROUP, ledgerHandler, subscribeLedger } from './ledger-consumer.js';
import { LedgerStore } from './ledger-store.js';
import { REPORT_REQUESTS_TABLE, REPORTS_MIGRATIONS } from './migrations.js';
import { REPORTS_GROUP, type ReportGeneratorOptions, subscribeReportGenerator } from './report-generator.js';
import { registerReportRoutes } from './report-routes.js';
import { ReportStore } from './report-store.js';

export type ReportsOptions = Pick<ReportGeneratorOptions, 'maxPayments' | 'maxAttempts'>;

/** How often reports past their retention are deleted, at most (also once at start). */
const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * CSV reports of a merchant's payments, made off the request: the request writes a pending report
 * and its `report.requested` event in one transaction, and a consumer builds the file later from a
 * read model the service keeps from the payment events. An account holds at most
 * REPORTS_MAX_PER_ACCOUNT reports, each kept REPORTS_RETENTION_HOURS.
 */
export async function createReports(context: ServiceContext, options: ReportsOptions = {}): Promise<Service> {
  const db = await context.database(REPORTS_MIGRATIONS, { publishesEvents: true });
  const ledger = new LedgerStore(db);
  const reports = new ReportStore(db);
  const inbox = await Inbox.open(db);
  const outbox = await context.outbox(db);
  const retentionMs = context.config.REPORTS_RETENTION_HOURS * 3_600_000;
  let subscriptions: Subscription[] = [];
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () =>
    reports
      .deleteOlderThan(db, new Date(Date.now() - retentionMs).toISOString())
      .catch((error) => context.logger.warn({ err: error }, 'expired reports could not be deleted; retrying later'));

  return {
    name: 'reports',
    routes: (app: HttpServer) =>
      registerReportRoutes(app, {
        reports,
        outbox,
        keys: context.keys,
        faults: context.faults,
        requests: new IdempotentRequests(db, REPORT_REQUESTS_TABLE),
        maxPerAccount: context.config.REPORTS_MAX_PER_ACCOUNT,
        retentionMs,
      }),
    ...syncEffectRoutes(context, {
      service: 'reports',
      groups: [
        {
          group: LEDGER_GROUP,
          events: paymentEvents,
          handler: ledgerHandler({ inbox, ledger, faults: context.faults }) as Handler,
        },
      ],
    }),
    async start() {
      if (subscriptions.length > 0) return;
      const { transport, faults } = context;
      subscriptions = [
        await subscribeLedger({ transport, inbox, ledger, faults }),
        await subscribeReportGenerator({ transport, ledger, reports, faults, ...options }),
      ];
      await sweep();
      sweeper = setInterval(sweep, Math.min(SWEEP_EVERY_MS, retentionMs / 4));
      sweeper.unref();
    },
    async stop(deadlineMs) {
      clearInterval(sweeper);
      const closing = subscriptions.map((subscription) => subscription.close({ deadlineMs }));
      subscriptions = [];
      await Promise.all(closing);
    },
    readiness: () => ({ consumers: () => subscriptions.length === 2 }),
  };
}

export const reportsModule: ServiceModule = {
  name: 'reports',
  groups: [
    { group: LEDGER_GROUP, events: paymentEvents },
    { group: REPORTS_GROUP, events: [ReportRequested] },
  ],
  publishes: [ReportRequested],
  create: (context) => createReports(context),
};
