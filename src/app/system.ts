import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DeliveryJournal, openTransport, type Transport } from '@syncopate/messaging';
import { openSqlite } from '@syncopate/transport-sqlite';
import type { Logger } from 'pino';
import { ApiKeyStore, type IssuedKey } from '../platform/auth/api-keys.js';
import type { Config } from '../platform/config.js';
import { type FaultSettingsInput, Faults } from '../platform/faults.js';
import { gracefulClose } from '../platform/http/graceful-close.js';
import { createHttpServer, type HttpServer } from '../platform/http/server.js';
import { ObservedTransport } from '../platform/observed-transport.js';
import type { Service, ServiceModule } from '../platform/service.js';
import { ServiceResources } from '../platform/service-resources.js';
import { groupsByEventType, journalSideEffects } from '../platform/side-effects.js';
import { attemptLogHooks } from '../platform/telemetry/attempt-log.js';
import { Metrics } from '../platform/telemetry/metrics.js';
import { installTracing, type Tracing } from '../platform/telemetry/tracing.js';
import { registerApiDocuments } from './api-documents.js';
import { registerDashboard } from './dashboard.js';
import { registerOperationalRoutes } from './operational-routes.js';
import './transports.js';

export interface SystemOptions {
  config: Config;
  logger: Logger;
  /** The services this process runs; every process declares the groups of all `topology` modules. */
  services: readonly ServiceModule[];
  topology: readonly ServiceModule[];
  /** Initial fault settings per service name. */
  faults?: Record<string, FaultSettingsInput>;
  /** The OpenTelemetry `service.name` of this process's spans. Default `syncopate`. */
  serviceName?: string;
}

export interface RunningSystem {
  url: string;
  server: HttpServer;
  /** The transport as the services see it: dead-letter replays through it are journaled. */
  transport: Transport;
  keys: ApiKeyStore;
  faults: ReadonlyMap<string, Faults>;
  metrics: Metrics;
  tracing: Tracing;
  journal: DeliveryJournal;
  /** The services' databases and outbox relays: what /readyz checks besides the transport and the services. */
  resources: ServiceResources;
  /** Set when this start created the API key: its secret is shown once. */
  issuedApiKey: IssuedKey | undefined;
  issuedAdminKey: IssuedKey | undefined;
  /** Stops taking requests and work, lets in-flight work finish within the deadline, closes everything. */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * The composition root: opens the transport and the key store, declares the consumer groups,
 * creates the chosen services, serves their routes on one HTTP server and starts their consumers.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const { config, logger } = options;
  const tracing = installTracing(options.serviceName ?? 'syncopate');
  const metrics = new Metrics();
  const transport = await openTransport(config.TRANSPORT_URL);
  const authDb = openSqlite(join(config.dataDir, 'auth.db'));
  const keys = new ApiKeyStore(authDb);
  const issuedApiKey = ensureKey(keys, 'api', config.API_KEY);
  const issuedAdminKey = ensureKey(keys, 'admin', config.ADMIN_KEY);

  assertRoutable(options.topology);
  for (const module of options.topology) {
    for (const { group, events } of module.groups) {
      await transport.declareGroup(
        group,
        events.map((e) => e.type),
      );
    }
  }

  let url = '';
  const resources = new ServiceResources({ config, transport, logger });
  const journal = await DeliveryJournal.open(await resources.database('journal', []));
  const observed = new ObservedTransport(
    transport,
    [
      metrics.consumerHooks(),
      attemptLogHooks(logger),
      journal.hooks((error) => logger.warn({ err: error }, 'delivery journal write failed')),
    ],
    journal,
  );
  const groupsByType = groupsByEventType(options.topology);
  const sideEffects = journalSideEffects(journal, (type) => groupsByType.get(type) ?? []);
  const faults = new Map<string, Faults>();
  const services: Service[] = [];
  for (const module of options.services) {
    const serviceFaults = new Faults(module.name, options.faults?.[module.name]);
    faults.set(module.name, serviceFaults);
    services.push(
      await module.create({
        config,
        transport: observed,
        keys,
        faults: serviceFaults,
        metrics: metrics.registry,
        sideEffects,
        logger: logger.child({ service: module.name }),
        database: (migrations, databaseOptions) => resources.database(module.name, migrations, databaseOptions),
        outbox: (db) => resources.outbox(module.name, db),
        serviceUrl: (service) =>
          (service === 'gateway' ? config.GATEWAY_URL : undefined) ?? config.SERVICE_URLS[service] ?? url,
      }),
    );
  }

  const server = createHttpServer({ logger });
  // Payments may charge through the gateway (and, in sync mode, call the side effects) on this very
  // server: a shutting-down server still answers those calls, so the payments in flight finish.
  const serviceCalls = [config.GATEWAY_KEY, config.INTERNAL_KEY].map((key) => Buffer.from(`Bearer ${key}`));
  const closeServer = gracefulClose(server, (request) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    return serviceCalls.some((call) => given.length === call.length && timingSafeEqual(given, call));
  });
  metrics.observeHttp(server);
  metrics.watchQueues(transport, [...new Set([...groupsByType.values()].flat())]);
  metrics.watchOutboxes(() => resources.backlogs());
  await registerApiDocuments(server, options.topology);
  registerOperationalRoutes(server, {
    keys,
    faults,
    services,
    transport,
    relaysRunning: () => resources.relaysRunning,
    databasesReachable: () => resources.ping(),
    metrics,
    traces: tracing.recent,
  });
  for (const service of services) service.routes?.(server);
  const groups = options.topology.flatMap((module) => module.groups.map((g) => g.group));
  const dashboard = await registerDashboard(server, {
    traces: tracing.recent,
    config,
    keys,
    transport: observed,
    groups,
    metrics,
    faults,
  });
  await server.listen({ port: config.PORT, host: config.HOST });
  const address = server.server.address() as AddressInfo;
  url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  resources.startRelays();
  for (const service of services) await service.start?.();

  let stopping: Promise<void> | undefined;
  const stop = (deadlineMs = 10_000) => {
    stopping ??= (async () => {
      // Stop taking requests first, and let the answers in flight complete (within the deadline)
      // before the services and their databases close under them; then stop taking work.
      dashboard.close();
      const closingServer = closeServer(deadlineMs);
      for (const f of faults.values()) f.release();
      await closingServer;
      await Promise.all(services.map((service) => service.stop?.(deadlineMs)));
      await journal.flushed();
      await resources.close();
      await transport.close({ deadlineMs });
      authDb.close();
      await tracing.flush().catch((error) => logger.warn({ err: error }, 'spans could not be exported at shutdown'));
    })();
    return stopping;
  };

  return {
    url,
    server,
    transport: observed,
    keys,
    faults,
    metrics,
    tracing,
    journal,
    resources,
    issuedApiKey,
    issuedAdminKey,
    stop,
  };
}

/**
 * An event no group is bound to would be refused by the transport after the business transaction
 * that produced it had already charged a card: better to refuse to start.
 */
function assertRoutable(topology: readonly ServiceModule[]): void {
  const bound = new Set(topology.flatMap((m) => m.groups.flatMap((g) => g.events.map((e) => e.type))));
  for (const module of topology) {
    for (const event of module.publishes ?? []) {
      if (!bound.has(event.type)) {
        throw new Error(`${module.name} publishes ${event.type}, but no service in the topology consumes it`);
      }
    }
  }
}

/** Adopts a key given in the environment, or issues one when none exists yet. */
function ensureKey(keys: ApiKeyStore, role: 'api' | 'admin', fromEnv: string | undefined): IssuedKey | undefined {
  if (fromEnv) {
    keys.adopt(role, fromEnv);
    return undefined;
  }
  return keys.newest(role) ? undefined : keys.issue(role);
}
