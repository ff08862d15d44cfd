import type { Transport } from '@syncopate/messaging';
import { z } from 'zod';
import type { ApiKeyStore } from '../platform/auth/api-keys.js';
import { authenticate, principalOf } from '../platform/auth/authenticate.js';
import { type Faults, faultSettingsSchema } from '../platform/faults.js';
import { notFound } from '../platform/http/api-error.js';
import { encapsulate, type HttpServer } from '../platform/http/server.js';
import type { Service } from '../platform/service.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import type { RecentTraces } from '../platform/telemetry/recent-traces.js';

interface Parts {
  keys: ApiKeyStore;
  faults: ReadonlyMap<string, Faults>;
  services: readonly Service[];
  transport: Transport;
  relaysRunning(): boolean | undefined;
  databasesReachable(): Promise<void>;
  metrics: Metrics;
  traces: RecentTraces;
}

/** A dependency that does not answer within this is reported not ready (a probe must not hang). */
const READINESS_TIMEOUT_MS = 2_000;

/** Health, readiness and the admin knobs: the routes an operator (or the lab) uses, not a customer. */
export function registerOperationalRoutes(app: HttpServer, parts: Parts): void {
  const probe = { tags: ['operations'], security: [] };
  app.get('/healthz', { schema: { ...probe, summary: 'Liveness: the process answers' } }, async () => ({
    status: 'ok',
  }));

  const readiness = { ...probe, summary: 'Readiness: 200 when every check passes, 503 naming the failing ones' };
  app.get('/readyz', { schema: readiness }, async (_request, reply) => {
    const [databases, transport] = await Promise.all([
      answers(parts.databasesReachable()),
      answers(parts.transport.ping()),
    ]);
    const relays = parts.relaysRunning();
    const checks: Record<string, boolean> = {
      databases,
      transport,
      ...(relays === undefined ? {} : { outbox_relays: relays }),
    };
    for (const service of parts.services) {
      for (const [name, check] of Object.entries(service.readiness?.() ?? {})) {
        checks[`${service.name}.${name}`] = safely(check);
      }
    }
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(parts.metrics.registry.contentType).send(await parts.metrics.scrape()),
  );

  encapsulate(app, (scope) => {
    scope.addHook('onRequest', authenticate(parts.keys));
    scope.get(
      '/v1/traces/:paymentId',
      {
        schema: {
          summary:
            "One payment's trace: the request, the gateway call, the commit, the publish and every consumer attempt",
          tags: ['payments'],
          params: z.object({ paymentId: z.string().min(1).max(64) }),
        },
      },
      async (request) => {
        const spans = parts.traces.find(request.params.paymentId);
        // Traces are the caller's only when their request span says so: another key's payment is not found.
        const owner = spans.find((span) => span.attributes['account.id'] !== undefined)?.attributes['account.id'];
        if (spans.length === 0 || owner !== principalOf(request).accountId) {
          throw notFound('trace of payment', request.params.paymentId, 'paymentId');
        }
        return { object: 'trace', payment_id: request.params.paymentId, spans };
      },
    );
  });

  encapsulate(app, (admin) => {
    // On request, before validation: a caller without the admin key learns nothing about the parameters.
    admin.addHook('onRequest', authenticate(parts.keys, 'admin'));
    const operator = { tags: ['admin'], security: [{ adminKey: [] }] };
    const serviceParam = z.object({ service: z.string().min(1).max(64) });
    const find = (service: string) => {
      const faults = parts.faults.get(service);
      if (!faults) throw notFound('service in this process', service, 'service');
      return faults;
    };

    const list = { ...operator, summary: 'The fault settings of every service in this process' };
    admin.get('/v1/admin/faults', { schema: list }, async () => ({
      data: [...parts.faults.values()].map((f) => ({ service: f.service, ...f.current })),
    }));

    admin.put(
      '/v1/admin/faults/:service',
      {
        schema: {
          ...operator,
          summary: "Replace a service's fault settings",
          params: serviceParam,
          body: faultSettingsSchema,
        },
      },
      async (request) => ({ service: request.params.service, ...find(request.params.service).set(request.body) }),
    );

    admin.patch(
      '/v1/admin/faults/:service',
      {
        schema: {
          ...operator,
          summary: "Change some of a service's fault settings",
          params: serviceParam,
          body: faultSettingsSchema,
        },
      },
      async (request) => ({ service: request.params.service, ...find(request.params.service).patch(request.body) }),
    );
  });
}

async function answers(check: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
