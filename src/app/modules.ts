import type { ServiceModule } from '../platform/service.js';
import { analyticsModule } from '../services/analytics/index.js';
import { emailModule } from '../services/email/index.js';
import { gatewayModule } from '../services/gateway/gateway-service.js';
import { notificationsModule } from '../services/notifications/index.js';
import { paymentsModule } from '../services/payments/index.js';
import { reportsModule } from '../services/reports/index.js';

/** Every service Syncopate has, in start order: the gateway first, since payments calls it. */
export const ALL_MODULES: readonly ServiceModule[] = [
  gatewayModule,
  paymentsModule,
  emailModule,
  analyticsModule,
  reportsModule,
  notificationsModule,
];

export function modulesNamed(names: readonly string[]): ServiceModule[] {
  return names.map((name) => {
    const module = ALL_MODULES.find((m) => m.name === name);
    if (!module) throw new Error(`unknown service "${name}"; choose from ${ALL_MODULES.map((m) => m.name).join(', ')}`);
    return module;
  });
}
