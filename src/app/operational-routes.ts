import { z } from 'zod';
import type { Transport } from '../messaging/index.js';
import type { ApiKeyStore } from '../platform/auth/api-keys.js';
import { authenticate } from '../platform/auth/authenticate.js';
import { type Faults, faultSettingsSchema } from '../platform/faults.js';
import { notFound } from '../platform/http/api-error.js';
import { encapsulate, type HttpServer } from '../platform/http/server.js';
import type { Service } from '../platform/service.js';

interface Parts {
  keys: ApiKeyStore;
  faults: ReadonlyMap<string, Faults>;
  services: readonly Service[];
  transport: Transport;
  relaysRunning(): boolean;
}

/** Health, readiness and the admin knobs: the routes an operator (or the lab) uses, not a customer. */
export function registerOperationalRoutes(app: HttpServer, parts: Parts): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, boolean> = { outbox_relays: parts.relaysRunning() };
    for (const service of parts.services) {
      for (const [name, check] of Object.entries(service.readiness?.() ?? {})) {
        checks[`${service.name}.${name}`] = safely(check);
      }
    }
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  encapsulate(app, (admin) => {
    admin.addHook('preHandler', authenticate(parts.keys, 'admin'));
    const serviceParam = z.object({ service: z.string().min(1).max(64) });
    const find = (service: string) => {
      const faults = parts.faults.get(service);
      if (!faults) throw notFound('service in this process', service, 'service');
      return faults;
    };

    admin.get('/v1/admin/faults', { schema: { hide: true } }, async () => ({
      data: [...parts.faults.values()].map((f) => ({ service: f.service, ...f.current })),
    }));

    admin.put(
      '/v1/admin/faults/:service',
      { schema: { hide: true, params: serviceParam, body: faultSettingsSchema } },
      async (request) => ({ service: request.params.service, ...find(request.params.service).set(request.body) }),
    );

    admin.patch(
      '/v1/admin/faults/:service',
      { schema: { hide: true, params: serviceParam, body: faultSettingsSchema } },
      async (request) => ({ service: request.params.service, ...find(request.params.service).patch(request.body) }),
    );
  });
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
