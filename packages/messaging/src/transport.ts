import type { Context } from '@opentelemetry/api';
import type { Envelope } from './envelope.js';
import type { EventOf, EventType } from './event-type.js';
import type { Outbox } from './outbox.js';
import type { SqlDatabase } from './sql-database.js';

/**
 * The transport contract, in two layers.
 *
 * `Transport` is what services use: publish, subscribe, the dead-letter queues, close.
 * `TransportDriver` is what a backend supplies: durable publish, and per group a queue that can
 * claim, ack, retry later, dead-letter, extend and release deliveries. One shared runner
 * (`consumer-runner.ts`) turns a driver queue into a subscription, so retries, timeouts,
 * ordering and shutdown behave the same on every backend.
 */

/** What a backend can and cannot do; the contract suite reads these instead of the backend's name. */
export interface TransportCapabilities {
  /** Messages survive a restart of the process (and of the server, for brokers). */
  durable: boolean;
  /** Consumers and publishers in other processes share the same queues. */
  crossProcess: boolean;
  /**
   * Same-key events are handled in publish order by all the consumers of a group together, and a
   * later one waits while an earlier one waits for its retry. Without it, order holds only within
   * one claimed batch.
   */
  perKeyOrder: boolean;
  /**
   * How a claimed message is kept from the group's other consumers while its handler runs.
   * `timed`: for `leaseMs`, renewed by `extendLeases`; a consumer that stops renewing (hung, killed,
   * cut off) loses it when the lease lapses. `connection`: for as long as the consumer's connection
   * lives, the broker's own rule (RabbitMQ); `leaseMs` is not used, `extendLeases` does nothing, and
   * a slow handler can never lose its message, while a hung one is bounded by `handlerTimeoutMs`.
   */
  leases: 'timed' | 'connection';
  /**
   * The `GroupStats` figures this backend reports as null, because it cannot tell them without
   * reading every message. Every other figure is exact.
   */
  unknownStats: readonly ('delayed' | 'oldestWaitingAgeMs')[];
}

export interface Message<E extends Envelope = Envelope> {
  readonly event: E;
  readonly group: string;
  /** 1 on first delivery; counts every delivery, including those to consumers that died. */
  readonly attempt: number;
  /** Aborted when the handler times out or the subscription closes past its deadline. */
  readonly signal: AbortSignal;
  /**
   * The trace context of this attempt (its `process` span): pass it to what the handler does
   * (outgoing calls, `createEvent`'s `trace`) so that joins the event's trace.
   */
  readonly trace: Context;
}

export type Handler<E extends Envelope = Envelope> = (message: Message<E>) => Promise<void> | void;

/** A function from handler to handler: the way tracing, metrics and the inbox plug in. */
export type Middleware = (next: Handler) => Handler;

export interface BackoffOptions {
  /** Upper bound of the first retry's delay; doubles with each attempt (full jitter below it). */
  initialDelayMs: number;
  maxDelayMs: number;
}

export type Outcome =
  | { kind: 'ack' }
  | { kind: 'retry'; delayMs: number; error: string }
  | { kind: 'dead-letter'; reason: string };

export interface AttemptReport {
  group: string;
  /** Undefined only when the stored message could not even be decoded. */
  event: Envelope | undefined;
  eventId: string;
  attempt: number;
  outcome: Outcome;
  durationMs: number;
}

/** Observation points for metrics and logs; they must not throw. */
export interface SubscriptionHooks {
  onSettled?(report: AttemptReport): void;
  /** A failure of the machinery itself (claim, ack, lease), not of a handler; the runner carries on. */
  onError?(error: unknown, operation: string): void;
}

export interface SubscribeOptions<E extends EventType = EventType> {
  /** The consumer group: each group gets every event; members of one group share the work. */
  group: string;
  events: readonly E[];
  handler: Handler<EventOf<E>>;
  /** Handlers running at once in this subscription. Default 8, at most 256. */
  concurrency?: number;
  /** Deliveries before a failing message goes to the dead-letter queue. Default 5, at most 100. */
  maxAttempts?: number;
  backoff?: Partial<BackoffOptions>;
  /** A handler running longer is aborted and the attempt counts as failed. Default 30 s. */
  handlerTimeoutMs?: number;
  /** How long a claimed message stays invisible to other consumers; extended while its handler runs. Default 30 s. */
  leaseMs?: number;
  /** Applied outermost first. */
  middleware?: readonly Middleware[];
  hooks?: SubscriptionHooks;
}

export interface CloseOptions {
  /** How long in-flight handlers may run before they are aborted and their messages released. Default 10 s. */
  deadlineMs?: number;
}

export interface Subscription {
  readonly group: string;
  /** Stops fetching, lets in-flight handlers finish within the deadline, releases the rest. */
  close(options?: CloseOptions): Promise<void>;
}

export interface DeadLetter {
  group: string;
  eventId: string;
  type: string;
  /** The envelope as stored; null when the stored body is not a valid envelope. */
  event: Envelope | null;
  body: string;
  reason: string;
  attempts: number;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  deadLetteredAt: Date;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const MAX_DEAD_LETTER_PAGE = 500;

/** Inspect, replay and purge one group's dead letters. Replay puts a message back on that group only, with its attempts reset. */
export interface DeadLetterQueue {
  list(group: string, options?: { limit?: number; after?: string }): Promise<DeadLetterPage>;
  get(group: string, eventId: string): Promise<DeadLetter>;
  count(group: string): Promise<number>;
  replay(group: string, eventId: string): Promise<void>;
  /** Returns how many messages went back on the queue. */
  replayAll(group: string): Promise<number>;
  /** Without an id, empties the group's dead-letter queue. Returns how many were removed. */
  purge(group: string, eventId?: string): Promise<number>;
}

/**
 * Where one group's queue stands, for metrics and dashboards. A backend that cannot tell a figure
 * without reading every message reports null for it rather than a guess.
 */
export interface GroupStats {
  group: string;
  /** Messages not yet handled and not claimed: ready now, or waiting for a retry's delay. */
  waiting: number;
  /** Of `waiting`, those held back until a retry's delay has passed; null when the backend cannot tell. */
  delayed: number | null;
  /** Claimed by a consumer and not yet settled. */
  inFlight: number;
  deadLettered: number;
  /** How long the oldest waiting message has waited since it was published (consumer lag), ms; 0 when none waits. */
  oldestWaitingAgeMs: number | null;
}

export interface Transport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** Declares a group durably, so events published from now on are kept for it even before it subscribes. */
  declareGroup(group: string, eventTypes: readonly string[]): Promise<void>;
  /**
   * Resolves once every event is durable. An event no declared group is bound to is rejected
   * with `UnroutableEventError`: a silent drop would lose it.
   */
  publish(events: Envelope | readonly Envelope[]): Promise<void>;
  subscribe<E extends EventType>(options: SubscribeOptions<E>): Promise<Subscription>;
  readonly deadLetters: DeadLetterQueue;
  /** The group's queue figures, read from the backend (so they count every process's consumers). */
  stats(group: string): Promise<GroupStats>;
  /** Resolves when the backend answers a round trip; rejects with the reason when it does not. */
  ping(): Promise<void>;
  /**
   * The database the queue itself lives in, for services that keep their tables beside it so that
   * their events are queue rows of their own transactions; undefined where the backend offers none
   * (every broker; SQLite offers its file). The transport owns it and closes it with itself.
   */
  queueDatabase(): Promise<SqlDatabase | undefined>;
  /**
   * When `db` is where this transport keeps its queue (the same SQLite file, the same PostgreSQL
   * database), an outbox that writes a transaction's events straight into the queue: the change
   * and its events are one commit, with no outbox table and no relay. Undefined otherwise: then
   * use an `OutboxTable` and an `OutboxRelay`.
   */
  sameDatabaseOutbox(db: SqlDatabase): Promise<Outbox | undefined>;
  /** Closes every subscription (with their deadline) and the connection. */
  close(options?: CloseOptions): Promise<void>;
}

// ---- The driver layer ----

/** One claimed message. `token` is the backend's own handle (lease token, delivery tag, stream id...). */
export interface Delivery {
  readonly eventId: string;
  readonly body: string;
  readonly orderingKey: string | undefined;
  /** 1-based count of deliveries so far, this one included. */
  readonly attempt: number;
  readonly firstAttemptAt: Date;
  readonly token: unknown;
}

export interface Failure {
  error: string;
  attempt: number;
}

/** One consumer's handle on a group's queue. Every method takes batches where the backend allows. */
export interface GroupQueue {
  /**
   * Claims up to `max` deliveries and holds them for this consumer (for `leaseMs` where leases are
   * `timed`); waits until at least one is available or `signal` aborts (then resolves empty).
   * Same-key messages of one batch come in publish order (the runner runs them one after another).
   * With `perKeyOrder`, it also never hands out a message while an earlier one with the same
   * ordering key is held by any consumer of the group or waits for a retry; without it, same-key
   * messages in different batches may run at once, and a retried one comes back after later ones.
   */
  claim(max: number, signal: AbortSignal): Promise<Delivery[]>;
  ack(deliveries: readonly Delivery[]): Promise<void>;
  retry(delivery: Delivery, delayMs: number, failure: Failure): Promise<void>;
  deadLetter(delivery: Delivery, reason: string): Promise<void>;
  /**
   * Renews the hold on deliveries whose handlers still run, for another `leaseMs` from now; the
   * runner calls it every third of `leaseMs`. Does nothing where leases are held by the `connection`.
   */
  extendLeases(deliveries: readonly Delivery[]): Promise<void>;
  /** Makes deliveries available again at once; `countAttempt: false` when their handler never ran. */
  release(deliveries: readonly Delivery[], options: { countAttempt: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface GroupQueueOptions {
  group: string;
  eventTypes: readonly string[];
  leaseMs: number;
}

export interface TransportDriver {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  declareGroup(group: string, eventTypes: readonly string[]): Promise<void>;
  publish(events: readonly Envelope[]): Promise<void>;
  openQueue(options: GroupQueueOptions): Promise<GroupQueue>;
  readonly deadLetters: DeadLetterQueue;
  stats(group: string): Promise<GroupStats>;
  ping(): Promise<void>;
  /** Optional: see `Transport.queueDatabase`. Called once per process at most by the app; return the same one. */
  queueDatabase?(): Promise<SqlDatabase>;
  /** Optional: see `Transport.sameDatabaseOutbox`; resolves undefined for a database that is not the queue's. */
  sameDatabaseOutbox?(db: SqlDatabase): Promise<Outbox | undefined>;
  close(): Promise<void>;
}
