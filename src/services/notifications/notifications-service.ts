import type { BackoffOptions, EventOf, Handler, Message, Subscription } from '@syncopate/messaging';
import { type PaymentEventType, paymentEvents } from '../../contracts/payment-events.js';
import { authenticate } from '../../platform/auth/authenticate.js';
import { StreamAdmission } from '../../platform/http/event-stream.js';
import { encapsulate, type HttpServer } from '../../platform/http/server.js';
import { IdempotentRequests } from '../../platform/idempotent-requests.js';
import type { Service, ServiceContext } from '../../platform/service.js';
import { syncEffectRoutes } from '../../platform/sync-effects.js';
import { DeliveryStore } from './delivery-store.js';
import { registerEndpointRoutes } from './endpoint-routes.js';
import { EndpointStore } from './endpoint-store.js';
import { toEventObject } from './event-object.js';
import { LiveHub } from './live-hub.js';
import { registerLiveRoutes } from './live-routes.js';
import { ENDPOINT_REQUESTS_TABLE, NOTIFICATIONS_MIGRATIONS } from './migrations.js';
import { createWebhookDispatcher } from './webhook-dispatcher.js';
import { webhookAgent } from './webhook-url-policy.js';

export const WEBHOOKS_GROUP = 'webhooks';
/**
 * Live updates reach only the streams connected to the process that consumes the event. With
 * several notifications processes, each would need a group of its own (`live-<instance>`) so
 * every process sees every event; as it stands this is a single-process feature for the dashboard.
 */
export const LIVE_GROUP = 'live';

export interface NotificationsOptions {
  /** Deliveries of an event to the `webhooks` group before it is dead-lettered. */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** How long one merchant endpoint has to answer (WEBHOOK_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** Events handled at once by the `webhooks` group in this process (WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** Requests in flight to one endpoint from this process (WEBHOOK_ENDPOINT_CONCURRENCY). */
  endpointConcurrency: number;
  /** Webhook URLs may be http:// and local (WEBHOOK_ALLOW_LOCAL): development and tests only. */
  allowLocalUrls: boolean;
  /** Interval of the `: keep-alive` comment on live streams. */
  keepAliveMs: number;
  /** A live client this far behind is disconnected. */
  maxBufferedBytes: number;
  /** Live streams one key may hold open at once (SSE_MAX_STREAMS_PER_KEY). */
  maxStreamsPerKey: number;
}

/** The defaults of what has no setting of its own; the rest come from the configuration. */
export const NOTIFICATIONS_DEFAULTS = {
  maxAttempts: 8,
  backoff: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
  keepAliveMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
} satisfies Partial<NotificationsOptions>;

export interface NotificationsService extends Service {
  /** Live streams open on this process. */
  liveConnections(): number;
  /** Where one event stands with each webhook endpoint it was meant for. */
  deliveriesOf(eventId: string): ReturnType<DeliveryStore['forEvent']>;
}

/** Merchant webhooks and the dashboard's live stream: two consumers of the payment events. */
export async function createNotifications(
  context: Pick<ServiceContext, 'database' | 'transport' | 'keys' | 'faults' | 'logger' | 'config' | 'secrets'>,
  options: Partial<NotificationsOptions> = {},
): Promise<NotificationsService> {
  const { config } = context;
  const settings: NotificationsOptions = {
    ...NOTIFICATIONS_DEFAULTS,
    requestTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    endpointConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
    allowLocalUrls: config.WEBHOOK_ALLOW_LOCAL,
    maxStreamsPerKey: config.SSE_MAX_STREAMS_PER_KEY,
    ...options,
  };
  const db = await context.database(NOTIFICATIONS_MIGRATIONS);
  const endpoints = new EndpointStore(db);
  const deliveries = new DeliveryStore(db);
  const hub = new LiveHub({ keepAliveMs: settings.keepAliveMs, maxBufferedBytes: settings.maxBufferedBytes });
  const admission = new StreamAdmission({
    maxPerKey: settings.maxStreamsPerKey,
    isActive: (keyId) => context.keys.isActive(keyId),
  });
  const policy = { allowLocal: settings.allowLocalUrls };
  const agent = webhookAgent(policy);
  const subscriptions: Subscription[] = [];
  let stopping = false;

  const dispatch = createWebhookDispatcher({
    endpoints,
    deliveries,
    faults: context.faults,
    logger: context.logger,
    requestTimeoutMs: settings.requestTimeoutMs,
    endpointConcurrency: settings.endpointConcurrency,
    policy,
    agent,
  });

  const broadcast = async (message: Message<EventOf<PaymentEventType>>) => {
    await context.faults.disturb(message);
    hub.broadcast({ accountId: message.event.data.account_id, event: toEventObject(message.event) });
  };

  return {
    name: 'notifications',

    routes(app: HttpServer) {
      encapsulate(app, (scope) => {
        scope.addHook('onRequest', context.faults.onRequest);
        scope.addHook('onRequest', authenticate(context.keys));
        registerEndpointRoutes(scope, {
          endpoints,
          policy,
          requests: new IdempotentRequests(db, ENDPOINT_REQUESTS_TABLE),
        });
        registerLiveRoutes(scope, { hub, admission });
      });
    },

    ...syncEffectRoutes(context, {
      service: 'notifications',
      groups: [
        { group: WEBHOOKS_GROUP, events: paymentEvents, handler: dispatch as Handler },
        { group: LIVE_GROUP, events: paymentEvents, handler: broadcast as Handler },
      ],
      concurrency: settings.concurrency,
      handlerTimeoutMs: settings.requestTimeoutMs * 2,
    }),

    async start() {
      subscriptions.push(
        await context.transport.subscribe({
          group: WEBHOOKS_GROUP,
          events: paymentEvents,
          handler: dispatch,
          maxAttempts: settings.maxAttempts,
          backoff: settings.backoff,
          concurrency: settings.concurrency,
          // Room for the endpoints' own timeout (WEBHOOK_TIMEOUT_MS, up to a minute) and the writes around it.
          handlerTimeoutMs: Math.max(30_000, settings.requestTimeoutMs * 2),
        }),
        // A live view has no use for an event delivered late: a couple of tries, then let it go.
        await context.transport.subscribe({
          group: LIVE_GROUP,
          events: paymentEvents,
          handler: broadcast,
          maxAttempts: 3,
        }),
      );
    },

    async stop(deadlineMs: number) {
      stopping = true;
      hub.close();
      admission.close();
      await Promise.all(subscriptions.splice(0).map((s) => s.close({ deadlineMs })));
      // stop() may be called again (a test, a second signal): the agent closes once.
      if (!agent.closed && !agent.destroyed) await agent.close();
    },

    readiness() {
      return { consumers: () => subscriptions.length === 2 && !stopping };
    },

    liveConnections: () => hub.size,
    deliveriesOf: (eventId) => deliveries.forEvent(eventId),
  };
}
