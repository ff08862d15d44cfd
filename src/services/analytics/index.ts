import { type Handler, Inbox, type Subscription } from '@syncopate/messaging';
import { paymentEvents } from '../../contracts/payment-events.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { Service, ServiceContext, ServiceModule } from '../../platform/service.js';
import { syncEffectRoutes } from '../../platform/sync-effects.js';
import { ANALYTICS_MIGRATIONS, CounterStore } from './counter-store.js';
import { ANALYTICS_GROUP, paymentCounterHandler, subscribePaymentCounter } from './payment-counter.js';
import { registerSummaryRoute } from './summary-route.js';

/**
 * Payment analytics off the critical path: counts, volumes and success rates per account,
 * currency, minute and day, from the payment events, each counted once.
 */
export async function createAnalytics(context: ServiceContext): Promise<Service> {
  const db = await context.database(ANALYTICS_MIGRATIONS);
  const counters = new CounterStore(db);
  const inbox = await Inbox.open(db);
  let subscription: Subscription | undefined;

  return {
    name: 'analytics',
    routes: (app: HttpServer) => registerSummaryRoute(app, { counters, keys: context.keys, faults: context.faults }),
    ...syncEffectRoutes(context, {
      service: 'analytics',
      groups: [
        {
          group: ANALYTICS_GROUP,
          events: paymentEvents,
          handler: paymentCounterHandler({ inbox, counters, faults: context.faults }) as Handler,
        },
      ],
    }),
    async start() {
      subscription ??= await subscribePaymentCounter({
        transport: context.transport,
        inbox,
        counters,
        faults: context.faults,
      });
    },
    async stop(deadlineMs) {
      await subscription?.close({ deadlineMs });
      subscription = undefined;
    },
    readiness: () => ({ consumer: () => subscription !== undefined }),
  };
}

export const analyticsModule: ServiceModule = {
  name: 'analytics',
  groups: [{ group: ANALYTICS_GROUP, events: paymentEvents }],
  create: createAnalytics,
};
