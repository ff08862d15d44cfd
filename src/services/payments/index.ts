import { Gauge } from 'prom-client';
import { paymentEvents } from '../../contracts/payment-events.js';
import type { Service, ServiceContext, ServiceModule } from '../../platform/service.js';
import { SyncEffectCaller } from '../../platform/sync-effects.js';
import { GatewayClient } from './gateway-client.js';
import { PAYMENTS_MIGRATIONS } from './payment-store.js';
import { Payments } from './payments.js';
import { registerPaymentRoutes } from './routes.js';
import { asyncDispatch, syncDispatch } from './side-effect-dispatch.js';

export async function createPaymentsService(context: ServiceContext): Promise<Service> {
  const { config, logger } = context;
  const db = await context.database(PAYMENTS_MIGRATIONS, { publishesEvents: true });
  const gateway = new GatewayClient({
    baseUrl: () => context.serviceUrl('gateway'),
    key: context.secrets.gatewayKey,
    timeoutMs: config.GATEWAY_TIMEOUT_MS,
    halfOpenAfterMs: config.GATEWAY_BREAKER_COOLDOWN_MS,
  });
  new Gauge({
    name: 'syncopate_gateway_breaker_state',
    help: "The payments service's circuit breaker on the gateway: 0 closed, 1 half-open, 2 open.",
    registers: [context.metrics],
    collect() {
      this.set({ closed: 0, 'half-open': 1, open: 2 }[gateway.breakerState]);
    },
  });
  const dispatch =
    config.SIDE_EFFECTS === 'sync'
      ? syncDispatch(
          new SyncEffectCaller({
            services: config.SYNC_EFFECTS,
            urlOf: (service) => context.serviceUrl(service),
            internalKey: context.secrets.internalKey,
            timeoutMs: config.SYNC_EFFECT_TIMEOUT_MS,
          }),
          logger,
        )
      : asyncDispatch(await context.outbox(db));
  const payments = await Payments.create({
    db,
    sideEffects: context.sideEffects,
    dispatch,
    gateway,
    logger,
    staleKeyAfterMs: Math.max(30_000, config.GATEWAY_TIMEOUT_MS * 5),
    reconcileAfterMs: config.GATEWAY_TIMEOUT_MS * 2,
  });
  let timer: NodeJS.Timeout | undefined;
  let reconciling: Promise<unknown> = Promise.resolve();

  return {
    name: 'payments',
    routes: (app) => registerPaymentRoutes(app, { payments, keys: context.keys }),
    async start() {
      timer = setInterval(() => {
        reconciling = reconciling.then(() =>
          payments.reconcile().catch((error) => logger.error({ err: error }, 'reconciliation failed')),
        );
      }, config.RECONCILE_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await reconciling;
      await gateway.close();
      await dispatch.close();
    },
  };
}

export const paymentsModule: ServiceModule = {
  name: 'payments',
  groups: [],
  publishes: paymentEvents,
  create: createPaymentsService,
};
