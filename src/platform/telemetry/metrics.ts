import type { GroupStats, OutboxBacklog, SubscriptionHooks, Transport } from '@syncopate/messaging';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { HttpServer } from '../http/server.js';

/** What this process's consumers did for one group since it started. */
export interface ConsumerCounts {
  handled: number;
  failedAttempts: number;
  retries: number;
  deadLettered: number;
}

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The Prometheus metrics of one system (one registry each, so several systems in one test process
 * do not mix): HTTP, consumers, queues, outboxes, and whatever a service registers itself.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly handled: Counter<'group'>;
  private readonly failedAttempts: Counter<'group'>;
  private readonly retries: Counter<'group'>;
  private readonly deadLettered: Counter<'group'>;
  private readonly handlerDuration: Histogram<'group' | 'outcome'>;
  /** Backend reads shared by the series of one scrape, forgotten when the next begins. */
  private readonly snapshots: { forget(): void }[] = [];

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Time from a request arriving to its response being sent, by route and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.handled = new Counter({
      name: 'syncopate_messages_handled_total',
      help: 'Messages whose handler succeeded (acknowledged).',
      labelNames: ['group'],
      registers,
    });
    this.failedAttempts = new Counter({
      name: 'syncopate_message_failed_attempts_total',
      help: 'Handling attempts that failed (each is then retried or dead-lettered).',
      labelNames: ['group'],
      registers,
    });
    this.retries = new Counter({
      name: 'syncopate_message_retries_total',
      help: 'Failed attempts scheduled for another try.',
      labelNames: ['group'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'syncopate_messages_dead_lettered_total',
      help: 'Messages moved to the dead-letter queue by this process.',
      labelNames: ['group'],
      registers,
    });
    this.handlerDuration = new Histogram({
      name: 'syncopate_handler_duration_seconds',
      help: 'Time a handling attempt took, by outcome (ack, retry, dead-letter).',
      labelNames: ['group', 'outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
  }

  /** The exposition, with every backend figure read afresh (once per scrape, however many series use it). */
  scrape(): Promise<string> {
    for (const snapshot of this.snapshots) snapshot.forget();
    return this.registry.metrics();
  }

  /** One observation per response, labelled by the route's pattern (never the raw URL: ids would explode the series). */
  observeHttp(app: HttpServer): void {
    app.addHook('onResponse', (request, reply, done) => {
      this.httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
        reply.elapsedTime / 1_000,
      );
      done();
    });
  }

  /** Counts every settled attempt of every subscription these hooks are given to. */
  consumerHooks(): SubscriptionHooks {
    return {
      onSettled: ({ group, outcome, durationMs }) => {
        this.handlerDuration.observe({ group, outcome: outcome.kind }, durationMs / 1_000);
        if (outcome.kind === 'ack') {
          this.handled.inc({ group });
          return;
        }
        this.failedAttempts.inc({ group });
        if (outcome.kind === 'retry') this.retries.inc({ group });
        else this.deadLettered.inc({ group });
      },
    };
  }

  /** This process's consumer counters per group (handled, failed attempts, retries, dead-lettered), for the dashboard. */
  async consumerCounts(): Promise<Map<string, ConsumerCounts>> {
    const counts = new Map<string, ConsumerCounts>();
    const read = async (counter: Counter<'group'>, field: keyof ConsumerCounts) => {
      for (const { labels, value } of (await counter.get()).values) {
        const group = String(labels.group);
        const row = counts.get(group) ?? { handled: 0, failedAttempts: 0, retries: 0, deadLettered: 0 };
        row[field] = value;
        counts.set(group, row);
      }
    };
    await read(this.handled, 'handled');
    await read(this.failedAttempts, 'failedAttempts');
    await read(this.retries, 'retries');
    await read(this.deadLettered, 'deadLettered');
    return counts;
  }

  /** Queue depth, in-flight, delayed, dead-lettered and lag per group, read from the transport at scrape time. */
  watchQueues(transport: Transport, groups: readonly string[]): void {
    const snapshot = this.snapshot(() =>
      Promise.all(groups.map((group) => transport.stats(group).catch(() => undefined))),
    );
    const gauge = (name: string, help: string, value: (stats: GroupStats) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['group'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const stats of await snapshot()) {
            const figure = stats && value(stats);
            if (stats && figure !== null && figure !== undefined) this.set({ group: stats.group }, figure);
          }
        },
      });
    gauge(
      'syncopate_queue_waiting',
      'Messages waiting to be handled (ready or delayed for a retry).',
      (s) => s.waiting,
    );
    gauge('syncopate_queue_delayed', 'Waiting messages held back until their retry is due.', (s) => s.delayed);
    gauge('syncopate_queue_in_flight', 'Messages claimed by a consumer and not yet settled.', (s) => s.inFlight);
    gauge('syncopate_queue_dead_lettered', 'Messages in the dead-letter queue.', (s) => s.deadLettered);
    gauge('syncopate_queue_oldest_waiting_age_seconds', 'Age of the oldest waiting message: the consumer lag.', (s) =>
      s.oldestWaitingAgeMs === null ? null : s.oldestWaitingAgeMs / 1_000,
    );
  }

  /** Rows written but not yet on the transport, per service outbox. */
  watchOutboxes(backlogs: () => Promise<{ service: string; backlog: OutboxBacklog }[]>): void {
    const snapshot = this.snapshot(() => backlogs().catch(() => []));
    const gauge = (name: string, help: string, value: (backlog: OutboxBacklog) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['service'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const { service, backlog } of await snapshot()) this.set({ service }, value(backlog));
        },
      });
    gauge('syncopate_outbox_backlog', 'Events committed but not yet published.', (b) => b.count);
    gauge('syncopate_outbox_oldest_age_seconds', 'Age of the oldest unpublished event.', (b) => b.oldestAgeMs / 1_000);
  }

  private snapshot<T>(read: () => Promise<T>): () => Promise<T> {
    let value: Promise<T> | undefined;
    this.snapshots.push({ forget: () => (value = undefined) });
    return () => {
      value ??= read();
      return value;
    };
  }
}
