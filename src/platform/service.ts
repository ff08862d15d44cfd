import type { EventType, Migration, Outbox, SqlDatabase, Transport } from '@syncopate/messaging';
import type { SqliteOpenOptions } from '@syncopate/transport-sqlite';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ApiKeyStore } from './auth/api-keys.js';
import type { ServiceSecrets } from './auth/secrets.js';
import type { Config } from './config.js';
import type { Faults } from './faults.js';
import type { HttpServer } from './http/server.js';

/** What the composition root hands every service. */
export interface ServiceDatabaseOptions extends SqliteOpenOptions {
  /**
   * The service will ask for an outbox in this database. With the embedded SQLite transport and
   * no DATABASE_URL, its tables then go in the transport's file, so that its events are queue rows
   * committed with its own change: one commit per change, no relay hop.
   */
  publishesEvents?: boolean;
}

export interface ServiceContext {
  config: Config;
  transport: Transport;
  logger: Logger;
  keys: ApiKeyStore;
  /** The secrets the services present to each other (given in the environment, or generated and kept in DATA_DIR). */
  secrets: ServiceSecrets;
  /**
   * Opens (and migrates) the service's own database: its data is nobody else's. Closed by the
   * composition root after the service has stopped.
   */
  database(migrations: readonly Migration[], options?: ServiceDatabaseOptions): Promise<SqlDatabase>;
  /**
   * An outbox in that database, for events the service publishes from its own transactions: the
   * queue's own tables when the database is the transport's, else a table the composition root
   * relays to the transport from start to stop.
   */
  outbox(db: SqlDatabase): Promise<Outbox>;
  /**
   * Another service's internal listener: `GATEWAY_URL` or `SERVICE_URLS` when it runs elsewhere,
   * else this process's own (known only once it listens).
   */
  serviceUrl(service: string): string;
  /** This service's fault-injection knobs (latency, errors, down), set through the admin API. */
  faults: Faults;
  /** The process's Prometheus registry, for the service's own series (e.g. a breaker's state). */
  metrics: Registry;
  /** Where the asynchronous consequences of events stand, per consumer group. */
  sideEffects: SideEffects;
}

export type SideEffectState = 'pending' | 'delivered' | 'retrying' | 'dead_lettered' | 'purged';

/** One event's handling by one consumer group. */
export interface SideEffect {
  eventId: string;
  eventType: string;
  group: string;
  state: SideEffectState;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
  /** Null while pending: nothing has happened yet. */
  updatedAt: Date | null;
}

export interface SideEffects {
  /** For each event, one entry per group bound to its type, in the order given. */
  of(events: readonly { id: string; type: string }[]): Promise<SideEffect[]>;
}

/** A consumer group a service subscribes: declared up front in every process, so no event is published before its group exists. */
export interface GroupDeclaration {
  group: string;
  events: readonly EventType[];
}

export interface Service {
  readonly name: string;
  /** Registers the service's public routes on the process's public server (before it listens). */
  routes?(app: HttpServer): void;
  /**
   * Registers routes only the system's own processes call (the gateway, sync mode's effect
   * endpoints) on the internal listener, which listens only when some service has such routes.
   */
  internalRoutes?(app: HttpServer): void;
  /** Starts consumers, relays and timers (after the server listens). */
  start?(): Promise<void>;
  /** Stops taking work and lets in-flight work finish within the deadline. */
  stop?(deadlineMs: number): Promise<void>;
  /** Named readiness checks for /readyz. */
  readiness?(): Record<string, () => boolean>;
}

export type ServiceFactory = (context: ServiceContext) => Service | Promise<Service>;

/** A service as the composition root knows it before creating it. */
export interface ServiceModule {
  name: string;
  groups: readonly GroupDeclaration[];
  /** The event types it publishes; the composition root refuses to start if one has no group. */
  publishes?: readonly EventType[];
  create: ServiceFactory;
}
