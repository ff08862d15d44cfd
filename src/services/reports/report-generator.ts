import { errorMessage, PermanentError, type Subscription, type Transport } from '@syncopate/messaging';
import { ReportRequested } from '../../contracts/report-events.js';
import type { Faults } from '../../platform/faults.js';
import type { LedgerStore } from './ledger-store.js';
import { paymentsCsv } from './payments-csv.js';
import type { ReportStore } from './report-store.js';

export const REPORTS_GROUP = 'reports';

export interface ReportGeneratorOptions {
  transport: Pick<Transport, 'subscribe'>;
  ledger: LedgerStore;
  reports: ReportStore;
  faults: Pick<Faults, 'disturb'>;
  /** A range holding more payments fails with a reason instead of building a huge file. Default 100,000. */
  maxPayments?: number;
  /** Deliveries before a request that keeps failing marks its report failed. Default 5. */
  maxAttempts?: number;
}

export const REPORT_GENERATOR_DEFAULTS = { maxPayments: 100_000, maxAttempts: 5 };

/**
 * Builds the CSV a merchant asked for, from the read model, and stores it with the report, which
 * turns `ready`. A ready report is left alone, so a redelivered request costs a lookup, not a rebuild;
 * a failed one is built again when its dead-lettered request is replayed.
 */
export function subscribeReportGenerator(options: ReportGeneratorOptions): Promise<Subscription> {
  const { ledger, reports, faults } = options;
  const maxPayments = options.maxPayments ?? REPORT_GENERATOR_DEFAULTS.maxPayments;
  const maxAttempts = options.maxAttempts ?? REPORT_GENERATOR_DEFAULTS.maxAttempts;
  return options.transport.subscribe({
    group: REPORTS_GROUP,
    events: [ReportRequested],
    maxAttempts,
    // Building a CSV is synchronous work: taking several at once would only hold their leases longer.
    concurrency: 1,
    handler: async (message) => {
      const { report_id: id, account_id: accountId } = message.event.data;
      try {
        await faults.disturb(message);
        const report = await reports.get(id);
        if (!report || report.account_id !== accountId) {
          throw new PermanentError(`no report ${id} for account ${accountId}`);
        }
        if (report.status === 'ready') return;
        const payments = await ledger.paymentsIn({
          accountId,
          fromMs: Date.parse(report.from_at),
          toMs: Date.parse(report.to_at),
          limit: maxPayments + 1,
        });
        if (payments.length > maxPayments) {
          throw new PermanentError(`the range holds more than ${maxPayments} payments; ask for a shorter range`);
        }
        await reports.markReady({ id, csv: paymentsCsv(payments), paymentCount: payments.length });
      } catch (error) {
        // The queue dead-letters the request after this; its report must not stay pending forever.
        if (error instanceof PermanentError || message.attempt >= maxAttempts) {
          await reports.markFailed({ id, accountId, reason: errorMessage(error) });
        }
        throw error;
      }
    },
  });
}
