import type { EventOf, Message } from '@syncopate/messaging';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { PaymentEventType } from '../../contracts/payment-events.js';
import type { Faults } from '../../platform/faults.js';
import type { DeliveryStore } from './delivery-store.js';
import type { EndpointStore } from './endpoint-store.js';
import { toEventObject } from './event-object.js';
import { sendWebhook } from './webhook-sender.js';
import type { WebhookUrlPolicy } from './webhook-url-policy.js';

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
  /** Requests in flight to one endpoint from this process, at most. */
  endpointConcurrency: number;
  policy: WebhookUrlPolicy;
  agent: Dispatcher;
}

/**
 * Requests in flight per endpoint. An event whose endpoint is at its limit does not wait for it,
 * which would hold one of the consumer's slots for as long as the endpoint is slow: it is retried
 * later instead, so one merchant's slow endpoint cannot take the slots every merchant shares.
 */
class EndpointSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perEndpoint: number) {}

  /** A release function, or undefined when the endpoint is at its limit. */
  take(endpointId: string): (() => void) | undefined {
    const taken = this.inFlight.get(endpointId) ?? 0;
    if (taken >= this.perEndpoint) return undefined;
    this.inFlight.set(endpointId, taken + 1);
    return () => {
      const left = (this.inFlight.get(endpointId) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(endpointId);
      else this.inFlight.set(endpointId, left);
    };
  }
}

/**
 * The `webhooks` group's handler: sends the event to each of the merchant's endpoints that asked
 * for its type and has not yet taken it, in parallel, recording each outcome as it comes, so a
 * retry of the event goes only to the endpoints that failed (or were too busy to be sent it).
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  const { endpoints, deliveries, logger } = options;
  const slots = new EndpointSlots(options.endpointConcurrency);
  return async (message: Message<EventOf<PaymentEventType>>): Promise<void> => {
    await options.faults.disturb(message);
    const { event } = message;
    const accountId = event.data.account_id;
    const subscribed = await endpoints.subscribedTo(accountId, event.type);
    const pending = await deliveries.pending({ eventId: event.id, subscribed: subscribed.map((e) => e.id) });
    const targets = subscribed.filter((e) => pending.has(e.id));
    if (targets.length === 0) return;
    const body = JSON.stringify(toEventObject(event));
    const busy: string[] = [];
    const failures = await Promise.all(
      targets.map(async (endpoint) => {
        const release = slots.take(endpoint.id);
        if (!release) {
          busy.push(endpoint.id);
          return undefined;
        }
        try {
          const result = await sendWebhook({
            url: endpoint.url,
            body,
            secret: endpoint.secret,
            timeoutMs: options.requestTimeoutMs,
            signal: message.signal,
            trace: message.trace,
            policy: options.policy,
            agent: options.agent,
          });
          const record = { eventId: event.id, endpointId: endpoint.id };
          if (result.ok) {
            await deliveries.delivered({ ...record, status: result.status });
            return undefined;
          }
          await deliveries.failed({ ...record, status: result.status, error: result.error });
          return `${endpoint.id} ${result.error}`;
        } finally {
          release();
        }
      }),
    );
    const failed = failures.filter((f): f is string => f !== undefined);
    if (failed.length > 0) {
      logger.warn({ eventId: event.id, type: event.type, attempt: message.attempt, failed }, 'webhook delivery failed');
    }
    if (failed.length > 0 || busy.length > 0) {
      const parts = [
        ...(failed.length > 0
          ? [`failed for ${failed.length} of ${targets.length} endpoint(s): ${failed.join('; ')}`]
          : []),
        ...(busy.length > 0
          ? [`deferred for ${busy.join(', ')}: already taking ${options.endpointConcurrency} requests at once`]
          : []),
      ];
      throw new WebhookDeliveryError(`webhook delivery ${parts.join('; ')}`);
    }
  };
}
