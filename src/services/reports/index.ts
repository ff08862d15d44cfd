import { type Handler, Inbox, type Subscription } from '@syncopate/messaging';
import { paymentEvents } from '../../contracts/payment-events.js';
import { ReportRequested } from '../../contracts/report-events.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { Service, ServiceContext, ServiceModule } from '../../platform/service.js';
import { registerEffectEndpoint } from '../../platform/sync-effects.js';
import { LEDGER_GROUP, ledgerHandler, subscribeLedger } from './ledger-consumer.js';
import { LedgerStore } from './ledger-store.js';
import { REPORTS_MIGRATIONS } from './migrations.js';
import { REPORTS_GROUP, type ReportGeneratorOptions, subscribeReportGenerator } from './report-generator.js';
import { registerReportRoutes } from './report-routes.js';
import { ReportStore } from './report-store.js';

export type ReportsOptions = Pick<ReportGeneratorOptions, 'maxPayments' | 'maxAttempts'>;

/**
 * CSV reports of a merchant's payments, made off the request: the request writes a pending report
 * and its `report.requested` event in one transaction, and a consumer builds the file later from a
 * read model the service keeps from the payment events.
 */
export async function createReports(context: ServiceContext, options: ReportsOptions = {}): Promise<Service> {
  const db = await context.database(REPORTS_MIGRATIONS, { publishesEvents: true });
  const ledger = new LedgerStore(db);
  const reports = new ReportStore(db);
  const inbox = await Inbox.open(db);
  const outbox = await context.outbox(db);
  let subscriptions: Subscription[] = [];

  return {
    name: 'reports',
    routes: (app: HttpServer) => {
      registerReportRoutes(app, { db, reports, outbox, keys: context.keys, faults: context.faults });
      registerEffectEndpoint(app, {
        service: 'reports',
        internalKey: context.config.INTERNAL_KEY,
        groups: [
          {
            group: LEDGER_GROUP,
            events: paymentEvents,
            handler: ledgerHandler({ inbox, ledger, faults: context.faults }) as Handler,
          },
        ],
        concurrency: 8,
        handlerTimeoutMs: 30_000,
      });
    },
    async start() {
      if (subscriptions.length > 0) return;
      const { transport, faults } = context;
      subscriptions = [
        await subscribeLedger({ transport, inbox, ledger, faults }),
        await subscribeReportGenerator({ transport, ledger, reports, faults, ...options }),
      ];
    },
    async stop(deadlineMs) {
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
