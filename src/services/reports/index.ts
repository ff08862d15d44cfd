import { paymentEvents } from '../../contracts/payment-events.js';
import { ReportRequested } from '../../contracts/report-events.js';
import { SqliteInbox } from '../../messaging/inbox/sqlite-inbox.js';
import type { Subscription } from '../../messaging/index.js';
import { OutboxRelay } from '../../messaging/outbox/outbox-relay.js';
import { SqliteOutboxTable } from '../../messaging/outbox/sqlite-outbox.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { Service, ServiceContext, ServiceModule } from '../../platform/service.js';
import { LEDGER_GROUP, subscribeLedger } from './ledger-consumer.js';
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
export function createReports(context: ServiceContext, options: ReportsOptions = {}): Service {
  const db = context.database(REPORTS_MIGRATIONS);
  const ledger = new LedgerStore(db);
  const reports = new ReportStore(db);
  const inbox = new SqliteInbox(db);
  const outbox = new SqliteOutboxTable(db);
  const relay = new OutboxRelay({
    outbox,
    transport: context.transport,
    onError: (error) => context.logger.error({ err: error }, 'report outbox relay failed to publish'),
  });
  let subscriptions: Subscription[] = [];
  let relaying = false;

  return {
    name: 'reports',
    routes: (app: HttpServer) =>
      registerReportRoutes(app, { db, reports, outbox, keys: context.keys, faults: context.faults }),
    async start() {
      if (subscriptions.length > 0) return;
      relay.start();
      relaying = true;
      const { transport, faults } = context;
      subscriptions = [
        await subscribeLedger({ transport, inbox, ledger, faults }),
        await subscribeReportGenerator({ transport, ledger, reports, faults, ...options }),
      ];
    },
    async stop(deadlineMs) {
      const closing = subscriptions.map((subscription) => subscription.close({ deadlineMs }));
      subscriptions = [];
      relaying = false;
      await Promise.all([...closing, relay.stop()]);
    },
    readiness: () => ({
      consumers: () => subscriptions.length === 2,
      outbox_relay: () => relaying,
    }),
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
