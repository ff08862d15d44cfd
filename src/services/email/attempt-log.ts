import type { Logger } from 'pino';
import type { SubscriptionHooks } from '../../messaging/index.js';

/** Failed attempts in the service's log: a retry as a warning, a dead letter as an error. Successes log in the handler. */
export function attemptLogHooks(logger: Logger): SubscriptionHooks {
  return {
    onSettled(report) {
      const { outcome } = report;
      const fields = { eventId: report.eventId, type: report.event?.type, attempt: report.attempt };
      if (outcome.kind === 'retry') {
        logger.warn(
          { ...fields, retryInMs: outcome.delayMs, error: outcome.error },
          'email attempt failed; will retry',
        );
      } else if (outcome.kind === 'dead-letter') {
        logger.error({ ...fields, reason: outcome.reason }, 'email gave up; event moved to the dead-letter queue');
      }
    },
    onError(error, operation) {
      logger.error({ err: error, operation }, 'email consumer machinery failed; carrying on');
    },
  };
}
