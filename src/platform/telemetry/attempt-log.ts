import type { SubscriptionHooks } from '@syncopate/messaging';
import type { Logger } from 'pino';

/**
 * One log line per handling attempt, whatever the service: success at info, a retry as a warning,
 * a dead letter as an error, each with the trace, event and payment it belongs to.
 */
export function attemptLogHooks(logger: Logger): SubscriptionHooks {
  return {
    onSettled({ group, event, eventId, attempt, outcome, durationMs }) {
      // Every attempt passes here: build nothing for a line the level drops.
      if (!logger.isLevelEnabled(outcome.kind === 'ack' ? 'info' : 'warn')) return;
      const data = event?.data as { payment_id?: unknown } | undefined;
      const fields = {
        group,
        eventId,
        type: event?.type,
        traceId: event?.traceparent?.split('-')[1],
        paymentId: typeof data?.payment_id === 'string' ? data.payment_id : undefined,
        attempt,
        durationMs: Math.round(durationMs * 100) / 100,
      };
      switch (outcome.kind) {
        case 'ack':
          logger.info(fields, 'handled');
          return;
        case 'retry':
          logger.warn({ ...fields, retryInMs: outcome.delayMs, error: outcome.error }, 'attempt failed; will retry');
          return;
        case 'dead-letter':
          logger.error({ ...fields, reason: outcome.reason }, 'gave up; moved to the dead-letter queue');
      }
    },
    onError(error, operation) {
      logger.error({ err: error, operation }, 'consumer machinery failed; carrying on');
    },
  };
}
