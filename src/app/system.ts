import type { AddressInfo } from 'node:net';
import { DeliveryJournal, openTransport, type Transport } from '@syncopate/messaging';
import type { Logger } from 'pino';
import { ApiKeyStore, type IssuedKey, RevokedKeyError } from '../platform/auth/api-keys.js';
import { openPlatformStore } from '../platform/auth/platform-store.js';
import { resolveSecrets, SecretStore, type ServiceSecrets } from '../platform/auth/secrets.js';
import { type Config, ConfigError } from '../platform/config.js';
import { type FaultSettingsInput, Faults } from '../platform/faults.js';
import { gracefulClose } from '../platform/http/graceful-close.js';
import { registerRateLimit } from '../platform/http/rate-limit.js';
import { registerSecurityHeaders } from '../platform/http/security-headers.js';
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
  /** The public listener: the API, the dashboard, the documents, health and metrics. */
  url: string;
  server: HttpServer;
  /**
   * The internal listener (INTERNAL_HOST, loopback by default): the routes only the system's own
   * processes call. Undefined when no service of this process has any.
   */
  internalUrl: string | undefined;
  /** The secrets the services present to each other. */
  secrets: ServiceSecrets;
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
 * creates the chosen services, serves their public routes on the public listener and their
 * internal routes on the internal one, and starts their consumers.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const { config, logger } = options;
  // Keys and secrets first: a key that must not be used stops the start before anything is open.
  const authDb = openPlatformStore(config.dataDir);
  let issuedApiKey: IssuedKey | undefined;
  let issuedAdminKey: IssuedKey | undefined;
  const keys = new ApiKeyStore(authDb);
  try {
    issuedApiKey = ensureKey(keys, 'api', config.API_KEY);
    issuedAdminKey = ensureKey(keys, 'admin', config.ADMIN_KEY);
  } catch (error) {
    authDb.close();
    throw error;
  }
  const secrets = resolveSecrets(config, new SecretStore(authDb));
  const tracing = installTracing(options.serviceName ?? 'syncopate');
  const metrics = new Metrics();
  const transport = await openTransport(config.TRANSPORT_URL);

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
  let internalUrl: string | undefined;
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
        secrets,
        faults: serviceFaults,
        metrics: metrics.registry,
        sideEffects,
        logger: logger.child({ service: module.name }),
        database: (migrations, databaseOptions) => resources.database(module.name, migrations, databaseOptions),
        outbox: (db) => resources.outbox(module.name, db),
        serviceUrl: (service) => {
          const elsewhere = (service === 'gateway' ? config.GATEWAY_URL : undefined) ?? config.SERVICE_URLS[service];
          if (elsewhere) return elsewhere;
          if (internalUrl && options.services.some((m) => m.name === service)) return internalUrl;
          throw new Error(
            `${service} has no internal routes in this process: set ${service === 'gateway' ? 'GATEWAY_URL' : 'SERVICE_URLS'} to its internal listener`,
          );
        },
      }),
    );
  }

  const server = createHttpServer({ logger });
  const closeServer = gracefulClose(server);
  metrics.observeHttp(server);
  registerSecurityHeaders(server);
  await registerRateLimit(server, { keys, max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS });
  // The internal listener serves only what the system's own processes call, never on the public port.
  const internal = services.some((service) => service.internalRoutes) ? createHttpServer({ logger }) : undefined;
  const closeInternal = internal && gracefulClose(internal);
  if (internal) {
    metrics.observeHttp(internal);
    for (const service of services) service.internalRoutes?.(internal);
  }
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
  if (internal) {
    await internal.listen({ port: config.INTERNAL_PORT, host: config.INTERNAL_HOST });
    internalUrl = urlOf(internal);
  }
  await server.listen({ port: config.PORT, host: config.HOST });
  url = urlOf(server);
  resources.startRelays();
  for (const service of services) await service.start?.();

  let stopping: Promise<void> | undefined;
  const stop = (deadlineMs = 10_000) => {
    stopping ??= (async () => {
      // Stop taking requests first, and let the answers in flight complete (within the deadline)
      // before the services and their databases close under them; then stop taking work. The
      // internal listener closes after the public one: a payment in flight may still charge
      // through this process's gateway.
      const deadline = Date.now() + deadlineMs;
      dashboard.close();
      const closingServer = closeServer(deadlineMs);
      for (const f of faults.values()) f.release();
      await closingServer;
      await closeInternal?.(Math.max(0, deadline - Date.now()));
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
    internalUrl,
    secrets,
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

function urlOf(server: HttpServer): string {
  const address = server.server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
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
    try {
      keys.adopt(role, fromEnv);
    } catch (error) {
      if (!(error instanceof RevokedKeyError)) throw error;
      throw new ConfigError(`${role === 'admin' ? 'ADMIN_KEY' : 'API_KEY'}: ${error.message}; choose another`);
    }
    return undefined;
  }
  return keys.newest(role) ? undefined : keys.issue(role);
}
