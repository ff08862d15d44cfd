import type { EventOf, Message } from '@syncopate/messaging';
import type { Logger } from 'pino';
import type { PaymentEventType } from '../../contracts/payment-events.js';
import type { Faults } from '../../platform/faults.js';
import type { DeliveryStore } from './delivery-store.js';
import type { EndpointStore } from './endpoint-store.js';
import { toEventObject } from './event-object.js';
import { sendWebhook } from './webhook-sender.js';

/** Thrown when some endpoints did not take the event: the runtime retries it, then dead-letters it. */
export class WebhookDeliveryError extends Error {
  readonly code = 'webhook_delivery_failed';
}

export interface WebhookDispatcherOptions {
  endpoints: EndpointStore;
  deliveries: DeliveryStore;
  faults: Faults;
  logger: Logger;
  requestTimeoutMs: number;
}

/**
 * The `webhooks` group's handler: sends the event to each of the merchant's endpoints that asked
 * for its type and has not yet taken it, in parallel, recording each outcome as it comes, so a
 * retry of the event goes only to the endpoints that failed.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  const { endpoints, deliveries, logger } = options;
  return async (message: Message<EventOf<PaymentEventType>>): Promise<void> => {
    await options.faults.disturb(message);
    const { event } = message;
    const accountId = event.data.account_id;
    const subscribed = await endpoints.subscribedTo(accountId, event.type);
    const pending = await deliveries.pending({ eventId: event.id, subscribed: subscribed.map((e) => e.id) });
    const targets = subscribed.filter((e) => pending.has(e.id));
    if (targets.length === 0) return;
    const body = JSON.stringify(toEventObject(event));
    const failures = await Promise.all(
      targets.map(async (endpoint) => {
        const result = await sendWebhook({
          url: endpoint.url,
          body,
          secret: endpoint.secret,
          timeoutMs: options.requestTimeoutMs,
          signal: message.signal,
          trace: message.trace,
        });
        const record = { eventId: event.id, endpointId: endpoint.id };
        if (result.ok) {
          await deliveries.delivered({ ...record, status: result.status });
          return undefined;
        }
        await deliveries.failed({ ...record, status: result.status, error: result.error });
        return `${endpoint.id} ${result.error}`;
      }),
    );
    const failed = failures.filter((f): f is string => f !== undefined);
    if (failed.length > 0) {
      logger.warn({ eventId: event.id, type: event.type, attempt: message.attempt, failed }, 'webhook delivery failed');
      throw new WebhookDeliveryError(
        `webhook delivery failed for ${failed.length} of ${targets.length} endpoint(s): ${failed.join('; ')}`,
      );
    }
  };
}
